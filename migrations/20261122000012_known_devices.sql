-- Known devices (NFR-SEC-006): a browser that completed a sign-in without a second factor
-- gets a device token too, so its next sign-in is not "a new device" (no new-device
-- notice mail each time). Only a token issued after a second factor (second_factor)
-- lets a later sign-in skip the second factor.
ALTER TABLE trusted_devices ADD COLUMN second_factor boolean NOT NULL DEFAULT true;
ALTER TABLE trusted_devices ALTER COLUMN second_factor DROP DEFAULT;

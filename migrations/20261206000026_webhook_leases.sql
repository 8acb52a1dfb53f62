-- Issue 21 (faults): a claimed webhook delivery says so until its attempt is recorded (or
-- its lease runs out), so that when a receiver comes back everything else waiting for it
-- can be made due at once without a delivery in a worker's hands being claimed twice.
-- `claim_due_deliveries` sets it with the lease; recording the attempt, deferring it, or a
-- redelivery clears it. NULL: nobody holds the delivery.
ALTER TABLE webhook_deliveries ADD COLUMN leased_until timestamptz;

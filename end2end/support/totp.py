"""TOTP codes from pyotp, an implementation independent of Gatehouse's (RFC 6238).

Usage: python totp.py BASE32_SECRET [OFFSET_SECONDS]
Prints the 6-digit code for now + OFFSET_SECONDS (default 0).
"""
import sys
import time

import pyotp

secret = sys.argv[1]
offset = int(sys.argv[2]) if len(sys.argv) > 2 else 0
print(pyotp.TOTP(secret).at(int(time.time()) + offset))

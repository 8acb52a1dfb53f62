//! Attack tests of the security review (SPEC §2-§4, CON-SEC-005/007, NFR-SEC-003/005):
//! each performs the attack as an attacker would, against the running server, and
//! asserts the refusal.

mod attacks;
mod export;
mod proxy;

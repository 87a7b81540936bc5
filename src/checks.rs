//! Plans and runs one org's checks: the login, then one query per object and
//! per extra check, concurrently and bounded, each under its own timeout.

//! What the process can afford to run at once. The gate runs every org
//! concurrently; the only bound that matters on the client side is open
//! files (each connection is one), so the number of orgs in flight comes
//! from `RLIMIT_NOFILE`, not from a small constant. Salesforce's own limit
//! (25 concurrent requests of 20 s or more per org; short ones unlimited)
//! is per org and is kept by `concurrency`, not here.

/// File descriptors kept for everything that is not an org's connection:
/// stdio, the config, the reports, the trust store, the runtime's own
/// (epoll, wakers, signal pipes), DNS lookups.
pub const RESERVED_FDS: u64 = 64;

/// Assumed when the limit cannot be read (non-Unix systems, where sockets
/// are not bounded by a small per-process table).
const FALLBACK_FDS: u64 = 1024;

/// Connections one org may hold at once: `concurrency` to its instance,
/// plus one to its login host and one to its auditor's.
pub fn fds_per_org(concurrency: usize) -> u64 {
    concurrency.max(1) as u64 + 2
}

/// How many orgs may run at once with `open_files` descriptors allowed:
/// what is left after [`RESERVED_FDS`], divided by [`fds_per_org`]; at
/// least one.
pub fn orgs_at_once(open_files: u64, concurrency: usize) -> usize {
    let usable = open_files.saturating_sub(RESERVED_FDS);
    let n = usable / fds_per_org(concurrency);
    usize::try_from(n).unwrap_or(usize::MAX).max(1)
}

/// This process's soft limit on open files (`RLIMIT_NOFILE`).
#[cfg(unix)]
pub fn open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass it.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if !ok {
        return FALLBACK_FDS;
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return u64::MAX;
    }
    #[allow(clippy::useless_conversion)] // rlim_t is u64 on most targets, not all
    u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX)
}

/// Non-Unix: no per-process table to read; see [`FALLBACK_FDS`].
#[cfg(not(unix))]
pub fn open_files_limit() -> u64 {
    FALLBACK_FDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orgs_at_once_follows_the_open_files_limit() {
        // The common soft limit, the default concurrency of 10: 12 per org.
        assert_eq!(orgs_at_once(1024, 10), (1024 - 64) / 12);
        assert_eq!(orgs_at_once(1024, 10), 80);
        // A raised limit runs a large fleet all at once.
        assert_eq!(orgs_at_once(65_536, 10), (65_536 - 64) / 12);
        // A tiny limit still runs one org at a time, never none.
        assert_eq!(orgs_at_once(64, 10), 1);
        assert_eq!(orgs_at_once(0, 1), 1);
        assert!(orgs_at_once(u64::MAX, 1) > 1_000_000);
    }

    #[test]
    fn concurrency_costs_connections() {
        assert_eq!(fds_per_org(0), 3);
        assert_eq!(fds_per_org(1), 3);
        assert_eq!(fds_per_org(25), 27);
        assert!(orgs_at_once(1024, 25) < orgs_at_once(1024, 1));
    }

    #[cfg(unix)]
    #[test]
    fn the_limit_is_read_from_the_process() {
        let limit = open_files_limit();
        // stdio alone needs three; every Unix allows far more.
        assert!(limit >= 3, "{limit}");
    }
}

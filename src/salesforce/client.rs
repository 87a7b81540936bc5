//! REST calls with a session: query, limits, versions.

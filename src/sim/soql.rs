//! A SOQL subset for the simulated org: parse, then evaluate over rows.

//! The spiking version of the rate network (spec §9): Poisson conversion, two-compartment neurons,
//! eligibility traces and rate-vs-spiking weight changes.

// The solvers' limits in the tests of proofs/: deterministic resource limits, not
// wall-clock ones, so that a verdict does not depend on the machine's speed or load
// (issue 23: on a loaded machine the time limits turned unsat into unknown).
// Each bound is a count of the solver's own steps; measured on every query of every
// lemma (Z3 4.8.12, cvc5 1.0.3), with a safety factor of about 300 or more:
//   in process (QueryOutcome::rlimit_used): at most 3.2e6 (A1.C3.d2.between_scales;
//     A1 with C = 4, which no test runs, 1.7e7);
//   the z3 binary on the exported files (`z3 -st`, rlimit-count): at most 37,000
//     (E1.softmax.label);
//   cvc5 on the exported files (the smallest --rlimit that still answers): at most
//     270,000 (A1u.factors_positive).
// A query that needs more answers unknown on every machine alike.
#pragma once

namespace iclcert::proofs::test_limits {

inline constexpr unsigned kInProcessRlimit = 1'000'000'000;  // LemmaOptions::rlimit, solve()
inline constexpr const char* kZ3BinaryLimit = "rlimit=50000000";
inline constexpr const char* kCvc5BinaryLimit = "--rlimit=100000000";

}  // namespace iclcert::proofs::test_limits

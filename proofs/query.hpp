// One SMT query of a lemma: a formula whose unsatisfiability proves one step.
//
// Methods (how the C++ API asks Z3):
//   normalise  the formula is `P != 0` (or a disjunction of such) for polynomials P
//              obtained by clearing denominators; Z3's simplifier in
//              sum-of-monomials mode rewrites an identically-zero P to 0, so the
//              formula to false: unsat. (A certified normalisation: we trust Z3's
//              polynomial rewriter.)
//   nlsat      the formula is in QF_NRA and goes to Z3's complete nlsat procedure
//              (logic fixed to QF_NRA): unsat is a proof, sat gives a model.
// The exported file is standard SMT-LIB2 for both methods, (set-logic QF_NRA)
// (QF_UFNRA with uninterpreted functions) ... (check-sat), so that z3 and cvc5
// both re-run it (tests/proofs/export_test.cpp does, for every file).
// Trusted: Z3 4.8.12 (its rewriter and nlsat), and the encoding (theory/smt_lemmas.md).
#pragma once

#include <z3++.h>

#include <cstdint>
#include <optional>
#include <string>

namespace iclcert::proofs {

enum class Method { normalise, nlsat };
enum class Answer { unsat, sat, unknown };

const char* answer_name(Answer a);

struct Query {
  std::string name;     // "A1.C3.d2.mean_scaling": also the exported file's stem
  std::string encodes;  // one sentence: the step this query proves
  z3::expr formula;     // the negation of the step: unsat proves it
  Method method = Method::nlsat;
};

struct QueryOutcome {
  Answer answer = Answer::unknown;
  double seconds = 0;
  std::uint64_t rlimit_used = 0;     // Z3's resource count of this check (what `rlimit` bounds)
  std::string reason;                // Z3's reason for unknown
  std::optional<z3::model> model;    // when sat
};

// `timeout_ms`: a wall-clock limit (0: none), whose answer depends on the machine's
// speed and load. `rlimit`: Z3's resource limit (0: none), a count of its own steps:
// the same answer on any machine, so the tests bound their queries with it.
QueryOutcome solve(const Query& q, unsigned timeout_ms, unsigned rlimit = 0);

// The query as a self-contained SMT-LIB2 text with a header comment saying what
// it encodes and which answer means what. Throws std::logic_error when a symbol
// was not named through smt_symbol (proofs/smt_symbol.hpp).
std::string to_smtlib(const Query& q);

}  // namespace iclcert::proofs

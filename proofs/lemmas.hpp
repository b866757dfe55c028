// The named lemmas of issue 5 (statements, encodings and what is trusted:
// theory/smt_lemmas.md). Each is proved by a list of queries (query.hpp) whose
// unsat answers together make the proof; a sat answer is a candidate that is
// re-checked exactly (or with enclosures) before it may count as a refutation.
//
//   A1        two points per class, beta = 0, one layer: every mu_c - mu scales by
//             k = 1 + alpha (E - 1)/(E + C - 1), and F strictly increases
//             (symbolic alpha > 0, E > 1; d = 1 and 2; C from options).
//   A1u       unbalanced, C = 3: F increases; class level for symbolic sizes,
//             points-to-class-means link checked at sizes (1,2,3), (4,1,1) only.
//   A1u-layers  A1u over 4 layers (spec: open): search with Arb certification.
//   A2        beta > 0: search for a layer that decreases F (N <= 6, d <= 2),
//             the first decrease certified by Arb and again by Z3.
//   E1        the symbolic one-layer map commutes with a feature, a label and a
//             training-token transposition (linear kernel and softmax).
//   A1-false  a deliberately false variant of A1 (alpha > -1/2 instead of
//             alpha > 0): must be refuted, with an exactly checked counterexample.
#pragma once

#include "io/json_reader.hpp"
#include "proofs/query.hpp"
#include "proofs/smt_export.hpp"

#include <string>
#include <vector>

namespace iclcert::proofs {

enum class Verdict { proved, refuted, undecided };
const char* verdict_name(Verdict v);

struct StepResult {
  std::string name, encodes, method;
  Answer answer = Answer::unknown;
  double seconds = 0;
  std::string reason;
  std::uint64_t rlimit_used = 0;  // Z3's resource count of the query (QueryOutcome)
};

struct LemmaOptions {
  int classes = 3;               // A1 only
  unsigned timeout_ms = 30000;   // per query, wall clock (0: none)
  unsigned rlimit = 0;           // per query, Z3's deterministic resource limit (0: none; query.hpp)
  bool export_smtlib = false;    // keep every query as SMT-LIB2 text (LemmaResult::smtlib)
};

struct LemmaResult {
  std::string lemma, statement;
  Verdict verdict = Verdict::undecided;
  double seconds = 0;
  std::vector<StepResult> steps;
  Json counterexample;  // null unless refuted (or an uncertified candidate, in `evidence`)
  Json evidence = Json::object();
  std::string summary;  // one line for the terminal
  std::vector<SmtFile> smtlib;  // every query, in order, when LemmaOptions::export_smtlib
};

const std::vector<std::string>& lemma_names();

// Throws std::invalid_argument for an unknown lemma or an unsupported option.
LemmaResult prove_lemma(const std::string& name, const LemmaOptions& options);

}  // namespace iclcert::proofs

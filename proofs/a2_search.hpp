// Lemma A2 (beta > 0): search small instances for a layer that decreases the
// Fisher ratio, and certify what is found. See theory/smt_lemmas.md.
#pragma once

#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "proofs/lemmas.hpp"

namespace iclcert::proofs {

LemmaResult search_a2(const LemmaOptions& options);

// For a one-layer reduced softmax model without probe overrides, probe not a
// key: the negation of "F^1 < F^0" with the points exact and the softmax weights
// constrained by MPFR enclosures of exp (a2_search.cpp says how). unsat is a
// certificate that F^1 < F^0, provided `*consistency` (the constraints alone,
// when requested) is satisfiable.
Query a2_instance_query(z3::context& ctx, const Prompt& p, const Model& model, z3::expr* consistency = nullptr);

}  // namespace iclcert::proofs

// A1u over several layers (spec section 6: open): a search for a certified
// counterexample, C = 3, unbalanced classes, beta = 0. See theory/smt_lemmas.md.
#pragma once

#include "proofs/lemmas.hpp"

namespace iclcert::proofs {

LemmaResult search_a1u_layers(const LemmaOptions& options);

}  // namespace iclcert::proofs

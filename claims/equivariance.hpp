// Claims E1 (equivariance) and E2 (reduction) on one instance (spec section 6,
// theory/claims.md).
//
// E1. Statement: for g = (pi, sigma, tau) in S_d x S_C x S_N, running the model on
//     g.prompt gives g applied to the run on the prompt, at every layer; the probe's
//     outputs are invariant under tau.
//   Method: (1) structural, exact: each layer's score and value maps S, V (per row
//     kind: M(theta) for full heads, diag(beta I, gamma I) and diag(alpha I, alpha' I)
//     for reduced rows, the matrices of dense heads) commute with the generating
//     transpositions of S_d and S_C: P^T S P = S and P V = V P, in rationals. Then
//     scores are invariant and values equivariant under (pi, sigma), and since the
//     kernel acts row-wise and keys enter only through sums over i, every layer
//     commutes with g for every state: a proof for all layers, softmax included.
//     (2) on the instance, for a feature, a label and a token transposition and a
//     seeded composition, the run on g.prompt is compared with g.run entry by entry:
//     exactly (rationals) or by overlap of enclosures; disjoint enclosures certify a
//     violation.
//   Verdict: proved when (1) holds and (2) finds no violation; refuted when (2)
//     certifies a violation; undecided otherwise (weights not exactly equivariant,
//     no certified violation on this instance).
// E2. Statement: the full form with kappa = (beta,0,0,0,gamma,0), nu =
//     (alpha,0,0,0,alpha',0) equals the reduced recursion.
//   Method: (1) exact identity M(kappa) = diag(beta I, gamma I), M(nu) = diag(alpha I,
//     alpha' I) per layer; (2) both forms run on the instance, compared exactly or by
//     overlap (the two are separate code paths: a disjoint pair certifies a bug).
// Trusts: exact rational arithmetic for (1); the backend's containment for (2).
#pragma once

#include "api/control.hpp"  // progress and checkpoints only: the documented exception to the layering
#include "claims/display.hpp"
#include "claims/verdict.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "numerics/recursion.hpp"

#include <string>
#include <vector>

namespace iclcert::claims {

// A group element: pi on features, sigma on labels, tau on training tokens
// (new index -> old index: (g.x)[k] = x[pi[k]]).
struct GroupElement {
  std::string name;
  std::vector<int> pi, sigma, tau;
};

// The elements the instance check uses: transpositions of each kind that exists
// and a composition drawn from `seed`.
std::vector<GroupElement> probe_elements(const Prompt& p, std::uint64_t seed);

Prompt act_on_prompt(const GroupElement& g, const Prompt& p);

template <Scalar T>
Matrix<T> act_on_state(const GroupElement& g, const State<T>& s) {
  const int N = static_cast<int>(g.tau.size());
  Matrix<T> out = s.Z;
  for (int j = 0; j < s.rows(); ++j) {
    const int src = j < N ? g.tau[j] : j;
    for (int k = 0; k < s.d; ++k) out(j, k) = s.Z(src, g.pi[k]);
    for (int c = 0; c < s.C; ++c) out(j, s.d + c) = s.Z(src, s.d + g.sigma[c]);
  }
  return out;
}

// Structural check (1) of E1: the first layer/head/generator that breaks
// commutation, or an empty string.
std::string structural_equivariance_failure(const Model& m, int d, int C);

// Compares two runs entry by entry. Returns the first certainly different entry as
// {layer, row, column} and fills `overlap_only` when equality was only seen as overlap.
template <RigorousScalar T>
std::optional<std::array<int, 3>> first_certain_difference(const std::vector<Matrix<T>>& a,
                                                           const std::vector<Matrix<T>>& b) {
  for (std::size_t t = 0; t < a.size(); ++t)
    for (std::size_t j = 0; j < a[t].rows(); ++j)
      for (std::size_t k = 0; k < a[t].cols(); ++k) {
        const T diff = a[t](j, k) - b[t](j, k);
        if (ScalarTraits<T>::certainly_positive(diff) || ScalarTraits<T>::certainly_negative(diff))
          return std::array<int, 3>{static_cast<int>(t), static_cast<int>(j), static_cast<int>(k)};
      }
  return std::nullopt;
}

template <Scalar T>
std::vector<Matrix<T>> states_of(const Trace<T>& t) {
  std::vector<Matrix<T>> out;
  for (const auto& e : t.entries) out.push_back(e.state.Z);
  return out;
}

template <RigorousScalar T>
ClaimReport check_equivariance(const Prompt& p, const Model& model, std::uint64_t seed) {
  ClaimReport r;
  r.claim = "E1";
  const std::string structural = structural_equivariance_failure(model, p.d, p.C);
  r.evidence["structural"] = structural.empty() ? Json("every layer's score and value maps commute with S_d x S_C")
                                                : Json(structural);
  r.lines.push_back(structural.empty()
                        ? "structure: every layer's score and value maps commute with the transpositions of S_d "
                          "and S_C (exact): equivariant for every state"
                        : "structure: " + structural);
  const Trace<T> base = run_recursion<T>(p, model);
  Json checks = Json::array();
  const std::vector<GroupElement> elements = probe_elements(p, seed);
  long done = 0;
  for (const GroupElement& g : elements) {
    // A library call's receiver hears of each permuted run, and a cancelled call
    // stops here, between runs (api/control.hpp).
    api::report({"iclcert check E1", "runs", "", done++, static_cast<long>(elements.size()), false});
    const Trace<T> moved = run_recursion<T>(act_on_prompt(g, p), model);
    std::vector<Matrix<T>> expected;
    for (const auto& e : base.entries) expected.push_back(act_on_state(g, e.state));
    const auto diff = first_certain_difference<T>(states_of(moved), expected);
    checks.push_back({{"element", g.name}, {"certified_difference", diff.has_value()}});
    if (diff) {
      const auto [t, j, k] = *diff;
      r.verdict = Verdict::refuted;
      r.lines.push_back(g.name + ": layer " + std::to_string(t) + ", row " + std::to_string(j) + ", column " +
                        std::to_string(k) + ": run(g.prompt) = " + show(moved.entries[t].state.Z(j, k)) +
                        " but g.run(prompt) = " + show(expected[t](j, k)));
      r.counterexample = {{"prompt", prompt_to_json(p)},
                          {"model", model_to_json(model)},
                          {"element", {{"name", g.name}, {"pi", g.pi}, {"sigma", g.sigma}, {"tau", g.tau}}},
                          {"layer", t},
                          {"row", j},
                          {"column", k},
                          {"run_of_moved", enclosure_json(moved.entries[t].state.Z(j, k))},
                          {"moved_run", enclosure_json(expected[t](j, k))}};
      r.evidence["instance"] = checks;
      return r;
    }
    r.lines.push_back(g.name + ": every entry of every layer agrees" +
                      (ScalarTraits<T>::exact ? " exactly" : " (enclosures overlap)"));
  }
  r.evidence["instance"] = checks;
  r.verdict = structural.empty() ? Verdict::proved : Verdict::undecided;
  if (!structural.empty())
    r.lines.push_back("undecided: the weights are not exactly equivariant, and this instance does not certify a "
                      "violation (try more precision, or other prompts with iclcert fuzz)");
  r.more_precision_may_help = !structural.empty();
  return r;
}

// The full form of a reduced model. Throws ClaimInputError when a layer is not
// reduced or has probe overrides; checks the identity M(kappa) = diag(beta I, gamma I)
// (and the same for nu) exactly at sizes d, C.
Model full_form_of(const Model& reduced, int d, int C);

template <RigorousScalar T>
ClaimReport check_reduction(const Prompt& p, const Model& model) {
  ClaimReport r;
  r.claim = "E2";
  const Model full = full_form_of(model, p.d, p.C);
  r.lines.push_back("structure: M(beta,0,0,0,gamma,0) = diag(beta I, gamma I) and M(alpha,0,0,0,alpha',0) = "
                    "diag(alpha I, alpha' I) exactly, at every layer");
  const auto a = states_of(run_recursion<T>(p, model));
  const auto b = states_of(run_recursion<T>(p, full));
  if (const auto diff = first_certain_difference<T>(a, b)) {
    const auto [t, j, k] = *diff;
    r.verdict = Verdict::refuted;
    r.lines.push_back("layer " + std::to_string(t) + ", row " + std::to_string(j) + ", column " + std::to_string(k) +
                      ": reduced " + show(a[t](j, k)) + " vs full " + show(b[t](j, k)));
    r.counterexample = {{"prompt", prompt_to_json(p)}, {"model", model_to_json(model)}, {"layer", t},
                        {"row", j}, {"column", k}};
    return r;
  }
  r.lines.push_back(std::string("instance: the reduced and full runs agree at every entry of every layer") +
                    (ScalarTraits<T>::exact ? " exactly" : " (enclosures overlap)"));
  r.verdict = Verdict::proved;
  return r;
}

}  // namespace iclcert::claims

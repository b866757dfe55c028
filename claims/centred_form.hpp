// The centred (mean-value) form of R1's separation claim over one sub-box X of
// coefficients (theory/claims.md, "The centred form").
//
// Plain interval evaluation of a whole sub-box loses the correlation between the
// layers: every coefficient is a wide interval at every layer, each layer's
// enclosure wraps the previous one's, and after two or three layers of softmax the
// state is so wide that the Fisher ratio's denominator may contain 0 (its sign is
// lost, the ratio `unknown`). The centred form runs the same recursion once in
// Dual<T> seeded with centred variables (numerics/dual.hpp): with m the sub-box's
// midpoint and X_k - m_k = [-h_k, h_k], every quantity f of the run, each state
// entry after each layer, the metrics' numerators and denominators, the metrics
// and their changes D_t = M^{t+1} - M^t, is enclosed in
//
//   f(X)  subset of  f(X) [plain, on the run's own enclosures]
//                    intersected with  f(m) + sum_k df/dx_k (X) (X_k - m_k)
//
// where f(m) is carried along (the same operations on the midpoint's enclosures)
// and the gradient over X comes from forward-mode AD. The second term's excess
// width shrinks like h^2, and because every layer starts from the intersected
// state, wrapping does not compound from layer to layer. That is what decides
// boxes over gamma. A ball around the prompt enters as the same widened start for
// the midpoint and the box, so the form holds for every prompt of the ball (the
// mean-value theorem per prompt).
//
// Soundness: by the mean-value theorem along the segment from m to x, in its
// integral form (which also covers max and min, dual.hpp), for every x in X,
// f(x) - f(m) lies in grad f(X) . (X - m), wherever f is defined on X. A metric's
// kind (finite, +inf, ...) is taken from this run only where it is certain there
// (the sign of its denominator over the whole of X). Trusts: as R1, plus dual.hpp's
// chain rules.
#pragma once

#include "claims/paving.hpp"
#include "claims/robustness_box.hpp"
#include "numerics/dual.hpp"

#include <memory>
#include <optional>

namespace iclcert::claims {

template <RigorousScalar T>
class CentredDifferences {
 public:
  // `start`: the initial state of the plain run (the ball's widening included).
  CentredDifferences(const Prompt& p, const Model& model, const State<T>& start, const std::vector<BoxDimension>& box,
                     const SubBox& b, SeparationMetric metric)
      : metric_(metric), offsets_(std::make_unique<typename Dual<T>::Offsets>()) {
    using Tr = ScalarTraits<T>;
    if (b.ranges.size() > static_cast<std::size_t>(kMaxDualDims))
      throw ClaimInputError("the centred form takes at most " + std::to_string(kMaxDualDims) + " boxed coefficients");
    for (std::size_t k = 0; k < b.ranges.size(); ++k) {
      const T h = from_rational<T>((b.ranges[k].second - b.ranges[k].first) / 2);
      (*offsets_)[k] = Tr::hull(-h, h);
    }
    State<Dual<T>> dual_start{start.d, start.C, start.Z.map([](const T& v) { return Dual<T>(v); })};
    const BasicModel<Dual<T>> seeded = substitute<Dual<T>>(model, box, [&](std::size_t k) {
      const auto& [lo, hi] = b.ranges[k];
      return Dual<T>::centred_variable(Tr::hull(from_rational<T>(lo), from_rational<T>(hi)),
                                       from_rational<T>((lo + hi) / 2), static_cast<int>(k), offsets_.get());
    });
    dual_ = run_recursion_from<Dual<T>>(p, std::move(dual_start), seeded);
  }

  // The plain trace with its Fisher and gap ratios replaced by tighter enclosures of
  // the same quantities: the centred run's, intersected with the plain ones. The
  // other fields are the plain trace's.
  Trace<T> tightened(Trace<T> plain) const {
    for (std::size_t t = 0; t < plain.entries.size(); ++t) {
      auto& m = plain.entries[t].metrics;
      const auto& c = dual_.entries[t].metrics;
      m.fisher = tighter(m.fisher, c.fisher);
      m.gap_ratio = tighter(m.gap_ratio, c.gap_ratio);
    }
    return plain;
  }

  // An enclosure of M^{t+1} - M^t over the sub-box, or nullopt where M is not
  // finite on it (at t or t+1): the centred form of the difference itself, which is
  // tighter than the difference of the two metrics' enclosures.
  std::optional<T> operator()(int t) const {
    using KD = typename Ratio<Dual<T>>::Kind;
    const Ratio<Dual<T>>& before = metric(t);
    const Ratio<Dual<T>>& after = metric(t + 1);
    if (before.kind != KD::finite || after.kind != KD::finite) return std::nullopt;
    return (after.value - before.value).value;
  }

  // The centred run (its values enclose each quantity over the whole sub-box).
  const Trace<Dual<T>>& dual_trace() const { return dual_; }

 private:
  const Ratio<Dual<T>>& metric(int t) const {
    const auto& m = dual_.entries[static_cast<std::size_t>(t)].metrics;
    return metric_ == SeparationMetric::fisher ? m.fisher : m.gap_ratio;
  }

  // The tighter of two enclosures of one ratio. A kind is taken from the centred
  // run where the plain run could not tell it (both are certain facts about all of X).
  static Ratio<T> tighter(Ratio<T> plain, const Ratio<Dual<T>>& centred) {
    using K = typename Ratio<T>::Kind;
    using KD = typename Ratio<Dual<T>>::Kind;
    if (centred.kind == KD::unknown) return plain;
    if (plain.kind == K::unknown) {
      plain.kind = static_cast<K>(static_cast<int>(centred.kind));  // the same enumerators
      plain.value = centred.value.value;
    } else if (plain.kind == K::finite && centred.kind == KD::finite) {
      plain.value = ScalarTraits<T>::intersect(plain.value, centred.value.value);
    }
    return plain;
  }

  SeparationMetric metric_;
  std::unique_ptr<typename Dual<T>::Offsets> offsets_;  // X - m; the run's quantities point to it
  Trace<Dual<T>> dual_;
};

}  // namespace iclcert::claims

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
#include "numerics/affine.hpp"
#include "numerics/dual.hpp"

#include <limits>
#include <map>
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
    const std::optional<Dual<T>> d = change(t);
    if (!d) return std::nullopt;
    return d->value;
  }

  // D_t = M^{t+1} - M^t as one quantity of the centred run, or nullopt where M is
  // not finite on the sub-box: its value encloses D_t over X, its gradient the
  // partial derivatives of D_t over X (where D_t is differentiable; D_t is
  // Lipschitz on X where M is finite there, dual.hpp), its `mid` D_t at the midpoint.
  std::optional<Dual<T>> change(int t) const {
    using KD = typename Ratio<Dual<T>>::Kind;
    const Ratio<Dual<T>>& before = metric(t);
    const Ratio<Dual<T>>& after = metric(t + 1);
    if (before.kind != KD::finite || after.kind != KD::finite) return std::nullopt;
    return after.value - before.value;
  }

  // Whether the centred run certifies the claim at the sub-box's midpoint, at every
  // transition of the range (from the enclosures of the midpoint's values that it
  // carries): then no point check there can refute it.
  bool certifies_midpoint(const SeparationOptions& o) const {
    using Tr = ScalarTraits<T>;
    const LayerRange range = resolve(o.layers, dual_.entries.size() - 1);
    for (int t = range.first; t < range.last; ++t) {
      const std::optional<Dual<T>> d = change(t);
      if (!d) return false;
      const bool holds = o.strict ? Tr::certainly_positive(d->mid) : certainly_nonnegative(d->mid);
      // A1 (strict, Fisher) also needs 0 < between at t (claims/separation.hpp).
      if (!holds || (o.strict && o.metric == SeparationMetric::fisher && !Tr::certainly_positive(metric(t).value.mid)))
        return false;
    }
    return true;
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

// The affine (Order 1) or second-order Taylor (Order 2) form of R1's separation
// claim over one sub-box X (theory/affine_forms.md): the recursion once in
// TaylorForm<T, Order> (numerics/affine.hpp), each boxed coefficient
// m_k + h_k e_k, so every quantity, the metrics and their changes
// D_t = M^{t+1} - M^t (each one form, whose linear parts cancel in the difference)
// included, is enclosed over X by its form's range. Trusts: as R1, plus affine.hpp's
// remainders.
template <RigorousScalar T, int Order>
class TaylorDifferences {
 public:
  // `start`: the initial state of the plain run (the ball's widening included).
  TaylorDifferences(const Prompt& p, const Model& model, const State<T>& start, const std::vector<BoxDimension>& box,
                    const SubBox& b, SeparationMetric metric)
      : metric_(metric) {
    using A = TaylorForm<T, Order>;
    if (b.ranges.size() > static_cast<std::size_t>(kMaxAffineDims))
      throw ClaimInputError("the affine and taylor forms take at most " + std::to_string(kMaxAffineDims) + " boxed coefficients");
    State<A> affine_start{start.d, start.C, start.Z.map([](const T& v) { return A::of_interval(v); })};
    const BasicModel<A> seeded = substitute<A>(model, box, [&](std::size_t k) {
      const auto& [lo, hi] = b.ranges[k];
      return A::variable(from_rational<T>((lo + hi) / 2), from_rational<T>((hi - lo) / 2), static_cast<int>(k));
    });
    run_ = run_recursion_from<A>(p, std::move(affine_start), seeded);
  }

  // The plain trace with its Fisher and gap ratios intersected with the affine run's
  // ranges (a kind taken from the affine run where the plain one could not tell it).
  Trace<T> tightened(Trace<T> plain) const {
    using K = typename Ratio<T>::Kind;
    using KA = typename Ratio<TaylorForm<T, Order>>::Kind;
    auto tighter = [](Ratio<T>& m, const Ratio<TaylorForm<T, Order>>& a) {
      if (a.kind == KA::unknown) return;
      if (m.kind == K::unknown) {
        m.kind = static_cast<K>(static_cast<int>(a.kind));  // the same enumerators
        m.value = a.value.range();
      } else if (m.kind == K::finite && a.kind == KA::finite) {
        m.value = ScalarTraits<T>::intersect(m.value, a.value.range());
      }
    };
    for (std::size_t t = 0; t < plain.entries.size(); ++t) {
      tighter(plain.entries[t].metrics.fisher, run_.entries[t].metrics.fisher);
      tighter(plain.entries[t].metrics.gap_ratio, run_.entries[t].metrics.gap_ratio);
    }
    return plain;
  }

  // D_t as one form, or nullopt where M is not finite on the sub-box (at t or t+1).
  std::optional<TaylorForm<T, Order>> change(int t) const {
    using KA = typename Ratio<TaylorForm<T, Order>>::Kind;
    const Ratio<TaylorForm<T, Order>>& before = metric(t);
    const Ratio<TaylorForm<T, Order>>& after = metric(t + 1);
    if (before.kind != KA::finite || after.kind != KA::finite) return std::nullopt;
    return after.value - before.value;
  }

  const Trace<TaylorForm<T, Order>>& form_trace() const { return run_; }

 private:
  const Ratio<TaylorForm<T, Order>>& metric(int t) const {
    const auto& m = run_.entries[static_cast<std::size_t>(t)].metrics;
    return metric_ == SeparationMetric::fisher ? m.fisher : m.gap_ratio;
  }

  SeparationMetric metric_;
  Trace<TaylorForm<T, Order>> run_;
};

// The monotonicity test (theory/claims.md, "The monotonicity test"): where the
// derivative of D_t = M^{t+1} - M^t in coordinate k has one sign over the whole
// sub-box X, D_t is monotone along every segment of X parallel to axis k (it is
// Lipschitz there, and its derivative, where it exists, lies in the enclosure:
// dual.hpp), so its least value over X is taken on the face where x_k is at the
// deciding end (lo_k where D_t grows with x_k, hi_k where it falls), and its
// greatest on the opposite face. Fixing every coordinate of certain sign gives two
// faces of X, points when every sign is certain; D_t is enclosed on each by the
// plain and centred runs over the face (a degenerate interval in each fixed
// coordinate), which are far tighter than over X. Then
//   D_t(X)  subset of  [lower(D_t on the least face), upper(D_t on the greatest face)].
// Faces are evaluated once per sub-box, whatever the transitions that share them.
template <RigorousScalar T>
class MonotoneChanges {
 public:
  // `start`: the initial state of the plain run (the ball's widening included).
  MonotoneChanges(const Prompt& p, const Model& model, const State<T>& start, const std::vector<BoxDimension>& box,
                  const SubBox& b, SeparationMetric metric)
      : p_(p), model_(model), start_(start), box_(box), b_(b), metric_(metric) {}

  // An enclosure of D_t over X from its faces, given `change`, D_t of the centred
  // run over X (claims: CentredDifferences::change); nullopt when no coordinate's
  // derivative has a certain sign, or D_t is finite on neither face.
  std::optional<T> operator()(int t, const Dual<T>& change) {
    using Tr = ScalarTraits<T>;
    SubBox least = b_, greatest = b_;
    bool fixed = false;
    for (std::size_t k = 0; k < b_.ranges.size(); ++k) {
      const T& g = change.gradient[k];  // 0 beyond change.dims: D_t does not depend on x_k
      const bool grows = certainly_nonnegative(g), falls = certainly_nonpositive(g);
      if (!grows && !falls) continue;
      const auto& [lo, hi] = b_.ranges[k];
      least.ranges[k] = grows ? std::pair{lo, lo} : std::pair{hi, hi};
      greatest.ranges[k] = grows ? std::pair{hi, hi} : std::pair{lo, lo};
      fixed = true;
    }
    if (!fixed) return std::nullopt;
    const std::optional<T>& low = on(least)[static_cast<std::size_t>(t)];
    const std::optional<T>& high = on(greatest)[static_cast<std::size_t>(t)];
    auto finite = [](const std::optional<T>& x) { return x && Tr::width(*x) < std::numeric_limits<double>::infinity(); };
    if (!finite(low) && !finite(high)) return std::nullopt;
    if (!finite(change.value)) return std::nullopt;
    // Each end from its face, the other from the centred run over X where a face's
    // D_t is not finite.
    const Rational lower = finite(low) ? Tr::lower(*low) : Tr::lower(change.value);
    const Rational upper = finite(high) ? Tr::upper(*high) : Tr::upper(change.value);
    return Tr::hull(from_rational<T>(lower), from_rational<T>(upper));
  }

  int faces_evaluated() const { return static_cast<int>(faces_.size()); }

 private:
  // D_t on a face, for every t (nullopt where M is not finite there): the plain
  // run, intersected with the centred one unless the face is a point.
  const std::vector<std::optional<T>>& on(const SubBox& face) {
    using Tr = ScalarTraits<T>;
    using K = typename Ratio<T>::Kind;
    if (const auto it = faces_.find(face.ranges); it != faces_.end()) return it->second;
    const BasicModel<T> boxed = substitute<T>(model_, box_, [&](std::size_t k) {
      return Tr::hull(from_rational<T>(face.ranges[k].first), from_rational<T>(face.ranges[k].second));
    });
    Trace<T> trace = run_recursion_from<T>(p_, start_, boxed);
    bool point = true;
    for (const auto& [lo, hi] : face.ranges) point = point && lo == hi;
    std::optional<CentredDifferences<T>> centred;
    if (!point) {
      centred.emplace(p_, model_, start_, box_, face, metric_);
      trace = centred->tightened(std::move(trace));
    }
    std::vector<std::optional<T>> changes(trace.entries.size() - 1);
    for (std::size_t t = 0; t + 1 < trace.entries.size(); ++t) {
      const auto& before = metric_ == SeparationMetric::fisher ? trace.entries[t].metrics.fisher : trace.entries[t].metrics.gap_ratio;
      const auto& after = metric_ == SeparationMetric::fisher ? trace.entries[t + 1].metrics.fisher : trace.entries[t + 1].metrics.gap_ratio;
      if (before.kind != K::finite || after.kind != K::finite) continue;
      T d = after.value - before.value;
      if (centred)
        if (const std::optional<T> c = (*centred)(static_cast<int>(t))) d = Tr::intersect(d, *c);
      changes[t] = std::move(d);
    }
    return faces_.emplace(face.ranges, std::move(changes)).first->second;
  }

  const Prompt& p_;
  const Model& model_;
  const State<T>& start_;
  const std::vector<BoxDimension>& box_;
  const SubBox& b_;
  SeparationMetric metric_;
  std::map<std::vector<std::pair<Rational, Rational>>, std::vector<std::optional<T>>> faces_;
};

}  // namespace iclcert::claims

// Claim G1 (spec section 6): the float values of the batch path against reference
// values from the templated core, run_recursion<Ref>.
//
// With a rigorous Ref (ArbBall, numerics/interval_arb.hpp) every reference value is
// an enclosure of the true value: a float value is `inside` when the enclosure
// contains it exactly, else `outside` by its distance to the nearer endpoint in
// ulps of the float type; a prediction is certified when the enclosure of
// yhat[c*] - yhat[c] is certainly positive for every c != c* (the margin's
// enclosure excludes 0), and a float prediction that differs from a certified one
// is a flip. With a point Ref (MpfrReal) the same is done against the degenerate
// interval [ref, ref], and the report says "uncertified".
//
// Trusted: the reference backend's containment guarantee; nothing of the float path.
#pragma once

#include "gpu/batch_error_bound.hpp"
#include "gpu/batch_kernel.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace iclcert::gpu {

// Buckets of distance outside the enclosure, in ulps of the float type.
inline constexpr std::array<double, 6> kUlpBuckets = {1, 4, 16, 256, 65536, 1e300};
// Their names in the batch file (identifiers, for columns; docs/formats.md: "le_4" is
// at most 4 ulps outside, "gt_65536" more than 65536).
inline constexpr std::array<const char*, 7> kUlpBucketNames = {"inside", "le_1",     "le_4",    "le_16",
                                                                "le_256", "le_65536", "gt_65536"};

struct LayerValidation {
  long values = 0, outside = 0;
  std::array<long, 7> ulp_histogram{};  // inside, then kUlpBuckets
  double max_ulps_outside = 0;
  double max_relative_error = 0;  // |f - mid| / |mid| over values with mid != 0
  double max_abs_error = 0;       // |f - mid|
  double scale = 0;               // max |mid| (state entries)
  long certified = 0, flips = 0;  // predictions at this depth
  long first_flips = 0;           // prompts whose first flip is at this depth
  double bound = 0;               // largest stated bound E_t (batch_error_bound.hpp) over the prompts
  long beyond_bound = 0;          // values farther than E_t from the enclosure: the bound failed
  long non_finite = 0;            // inf or NaN float values (also counted outside and beyond_bound)
};

struct ValidationReport {
  std::string reference;  // "interval:256 (Arb balls, certified)" or "mpfr:256 (uncertified)"
  bool certified_reference = false;
  long prompts = 0;
  std::vector<LayerValidation> layers;  // depth t = 0..L
  long prompts_diverged = 0;            // with at least one flip
  int first_divergence = -1;            // smallest depth of a flip over all prompts; -1 if none

  void merge(const ValidationReport& o) {
    if (layers.empty()) layers.resize(o.layers.size());
    prompts += o.prompts;
    prompts_diverged += o.prompts_diverged;
    if (o.first_divergence >= 0 && (first_divergence < 0 || o.first_divergence < first_divergence))
      first_divergence = o.first_divergence;
    for (std::size_t t = 0; t < o.layers.size(); ++t) {
      LayerValidation& a = layers[t];
      const LayerValidation& b = o.layers[t];
      a.values += b.values;
      a.outside += b.outside;
      for (std::size_t i = 0; i < a.ulp_histogram.size(); ++i) a.ulp_histogram[i] += b.ulp_histogram[i];
      a.max_ulps_outside = std::max(a.max_ulps_outside, b.max_ulps_outside);
      a.max_relative_error = std::max(a.max_relative_error, b.max_relative_error);
      a.max_abs_error = std::max(a.max_abs_error, b.max_abs_error);
      a.scale = std::max(a.scale, b.scale);
      a.certified += b.certified;
      a.flips += b.flips;
      a.first_flips += b.first_flips;
      a.bound = std::max(a.bound, b.bound);
      a.beyond_bound += b.beyond_bound;
      a.non_finite += b.non_finite;
    }
  }

  // Float values that are inf or NaN: the float arithmetic overflowed (or met an
  // invalid operation). The true values are real numbers, so each is the worst
  // divergence there is.
  long non_finite() const {
    long n = 0;
    for (const auto& l : layers) n += l.non_finite;
    return n;
  }
};

// Spacing of T at |f| (the gap to the next larger magnitude).
template <class T>
double ulp_of(T f) {
  const T a = std::fabs(f);
  return static_cast<double>(std::nextafter(a, std::numeric_limits<T>::infinity()) - a);
}

// Distance from the exact value of f to the reference enclosure (0 inside).
template <class Ref>
double distance_outside(double f, const Ref& ref) {
  using Tr = ScalarTraits<Ref>;
  const Rational q = rational_from_double(f);
  if constexpr (RigorousScalar<Ref>) {
    if (Tr::contains(ref, q)) return 0;
    const Rational lo = Tr::lower(ref), hi = Tr::upper(ref);
    return nearest_double(q > hi ? Rational(q - hi) : Rational(lo - q));
  } else {
    const Ref diff = Tr::from_rational(q) - ref;
    return std::fabs(Tr::to_double(diff));
  }
}


// Compares one prompt's float states ((L + 1) x (N + 1) x D, batch_kernel.hpp's
// layout) and per-depth predictions with run_recursion<Ref>, adding to `report`.
// `bound_model`: the model in double, for the stated bound; `input_u`: the
// relative rounding of the inputs into T (0 when they are exact in T).
template <class T, class Ref>
void validate_prompt(const Prompt& p, const Model& model, const ModelView<double>& bound_model, double input_u,
                     const T* states, const LayerRecord<T>* records, ValidationReport& report) {
  const Trace<Ref> trace = run_recursion<Ref>(p, model);
  const int L1 = static_cast<int>(trace.entries.size()), D = p.d + p.C, R = p.N + 1;
  if (report.layers.empty()) report.layers.resize(L1);
  ++report.prompts;
  std::vector<double> scales(L1, 0.0);
  for (int t = 0; t < L1; ++t)
    for (const Ref& v : trace.entries[t].state.Z.data())
      scales[t] = std::max(scales[t], std::fabs(ScalarTraits<Ref>::to_double(v)));
  constexpr double kUnitRoundoff = std::numeric_limits<T>::epsilon() / 2;
  const std::vector<double> bound = first_order_error_bound(bound_model, scales, p.N, kUnitRoundoff, input_u);
  int first_flip = -1;
  for (int t = 0; t < L1; ++t) {
    const State<Ref>& s = trace.entries[t].state;
    LayerValidation& lv = report.layers[t];
    lv.bound = std::max(lv.bound, bound[t]);
    for (int j = 0; j < R; ++j)
      for (int k = 0; k < D; ++k) {
        const T f = states[(static_cast<long>(t) * R + j) * D + k];
        const Ref& ref = s.Z(j, k);
        ++lv.values;
        const double mid = ScalarTraits<Ref>::to_double(ref);
        lv.scale = std::max(lv.scale, std::fabs(mid));
        if (!std::isfinite(static_cast<double>(f))) {
          // Checked first: std::max drops a NaN error, and inf - inf is NaN, so the
          // generic path below would report such a value as within the bound.
          constexpr double inf = std::numeric_limits<double>::infinity();
          ++lv.non_finite;
          ++lv.outside;
          ++lv.beyond_bound;
          ++lv.ulp_histogram.back();
          lv.max_ulps_outside = lv.max_abs_error = lv.max_relative_error = inf;
          continue;
        }
        const double abs_err = std::fabs(static_cast<double>(f) - mid);
        lv.max_abs_error = std::max(lv.max_abs_error, abs_err);
        if (mid != 0) lv.max_relative_error = std::max(lv.max_relative_error, abs_err / std::fabs(mid));
        const double dist = distance_outside(static_cast<double>(f), ref);
        if (dist > bound[t]) ++lv.beyond_bound;
        if (dist == 0) {
          ++lv.ulp_histogram[0];
          continue;
        }
        ++lv.outside;
        const double ulps = dist / ulp_of(f);
        lv.max_ulps_outside = std::max(lv.max_ulps_outside, ulps);
        std::size_t b = 0;
        while (b + 1 < kUlpBuckets.size() && ulps > kUlpBuckets[b]) ++b;
        ++lv.ulp_histogram[1 + b];
      }
    const int cert = certified_prediction<Ref>(s.y(s.probe_row()));
    if (cert >= 0) {
      ++lv.certified;
      if (records[t].prediction != cert) {
        ++lv.flips;
        if (first_flip < 0) first_flip = t;
      }
    }
  }
  if (first_flip >= 0) {
    ++report.prompts_diverged;
    ++report.layers[first_flip].first_flips;
    if (report.first_divergence < 0 || first_flip < report.first_divergence) report.first_divergence = first_flip;
  }
}

}  // namespace iclcert::gpu

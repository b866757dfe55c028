#include "properties/user_weights.hpp"
#include "api/control.hpp"

#include "numerics/equivariant_projection.hpp"
#include "numerics/mpfr_real.hpp"
#include "numerics/precision.hpp"
#include "numerics/recursion.hpp"
#include "numerics/sampler.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "properties/equivariance.hpp"

#include <stdexcept>

namespace iclcert::properties {

const KindWorst& UserWeightsReport::largest() const {
  const KindWorst* best = &worst[0];
  for (const auto& w : worst)
    if (w.relative > best->relative) best = &w;
  return *best;
}

std::vector<DenseProjection> dense_projections(const Model& model, int d, int C) {
  std::vector<DenseProjection> out;
  for (std::size_t l = 0; l < model.layers.size(); ++l)
    if (const auto* dense = std::get_if<DenseLayer<Rational>>(&model.layers[l]))
      for (std::size_t h = 0; h < dense->heads.size(); ++h)
        for (const char* which : {"score", "value"}) {
          const Matrix<Rational>& w = which[0] == 's' ? dense->heads[h].score : dense->heads[h].value;
          const auto p = project_equivariant(w, d, C);
          DenseProjection r{l, h, which, {}, relative_residual(w, p)};
          for (int k = 0; k < 6; ++k) r.theta[k] = nearest_double(p.theta[k]);
          out.push_back(r);
        }
  return out;
}

namespace {

// A uniformly random permutation of n (Fisher-Yates), not the identity when n >= 2.
Permutation random_permutation(int n, Xoshiro256& rng) {
  Permutation p = identity_permutation(n);
  for (int i = n - 1; i > 0; --i) std::swap(p[i], p[static_cast<int>(rng.next() % (i + 1))]);
  if (n >= 2 && is_identity(p)) std::swap(p[0], p[1]);
  return p;
}

template <Scalar T>
void scan(const Model& model, const UserWeightsOptions& o, UserWeightsReport& report) {
  const BasicModel<T> m = convert_model(model, [](const Rational& q) { return from_rational<T>(q); });
  const LayerFunction<T> layers = model_layers(m);
  Xoshiro256 rng(o.seed ^ 0x9e3779b97f4a7c15ULL);
  for (int k = 0; k < o.cases; ++k) {
    api::checkpoint();  // a library call (api/fuzz.hpp) stops here when cancelled
    Prompt p;
    if (k == 0 && o.prompt) {
      p = *o.prompt;
    } else {
      SamplerOptions so;
      so.d = o.d;
      so.C = o.C;
      so.N = o.N;
      so.seed = o.seed + static_cast<std::uint64_t>(k);
      p = sample_prompt(so);
    }
    const State<T> s = initial_state<T>(p, m.probe_label_init);
    const int sizes[3] = {p.d, p.C, p.N};
    for (int kind = 0; kind < 3; ++kind) {
      if (sizes[kind] < 2) continue;
      GroupElement g = GroupElement::identity(p.d, p.C, p.N);
      Permutation& factor = kind == 0 ? g.features : kind == 1 ? g.labels : g.tokens;
      factor = random_permutation(sizes[kind], rng);
      const Measure measure = e1_measure<T>(layers, m.layers.size(), s, g);
      KindWorst& w = report.worst[kind];
      if (w.case_index < 0 || measure.relative > w.relative || !std::isfinite(measure.relative))
        w = {w.kind, measure.relative, k, measure.layer, measure.row, measure.col, g, p};
    }
  }
}

}  // namespace

double measure_case(const Prompt& prompt, const Model& model, const GroupElement& g, long bits) {
  require_runnable<double>(prompt, model);
  auto measure = [&]<Scalar T>() {
    const BasicModel<T> m = convert_model(model, [](const Rational& q) { return from_rational<T>(q); });
    return e1_measure<T>(model_layers(m), m.layers.size(), initial_state<T>(prompt, m.probe_label_init), g).relative;
  };
  if (bits == 0) return measure.operator()<double>();
  WorkingPrecision scope(bits);
  return measure.operator()<MpfrReal>();
}

UserWeightsReport check_user_weights(const Model& model, const UserWeightsOptions& o) {
  if (o.d < 1 || o.C < 2 || o.N < 1) throw std::invalid_argument("equivariance check: expected d >= 1, C >= 2, N >= 1");
  Prompt probe_sizes;
  probe_sizes.d = o.d;
  probe_sizes.C = o.C;
  require_runnable<double>(probe_sizes, model);
  UserWeightsReport report;
  const PermutationKind kinds[3] = {PermutationKind::feature, PermutationKind::label, PermutationKind::token};
  for (int k = 0; k < 3; ++k) report.worst[k].kind = kinds[k];
  report.cases = o.cases;
  report.tolerance = o.tolerance;
  if (o.bits == 0) {
    scan<double>(model, o, report);
  } else {
    WorkingPrecision scope(o.bits);
    scan<MpfrReal>(model, o, report);
  }
  report.projections = dense_projections(model, o.d, o.C);
  return report;
}

}  // namespace iclcert::properties

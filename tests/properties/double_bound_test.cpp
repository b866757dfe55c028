// The rounding bound of properties/double_bound.hpp is sound and not vacuous:
// with the linear kernel the exact result of the same (double) inputs is
// computable in rationals, and |fl(layer(s)) - layer(s)| <= E entrywise, with no
// safety factor; at magnitude ~1 the bound is small.
#include "numerics/scalar_rational.hpp"
#include "properties/double_bound.hpp"
#include "properties/generators.hpp"
#include "properties/runner.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace iclcert::properties {
namespace {

CaseVerdict bound_holds(const FuzzCase& c, double* worst_ratio) {
  // The double model and state, and the same values exactly.
  const BasicModel<double> md = convert_model(c.model, [](const Rational& q) { return nearest_double(q); });
  const Model mq = convert_model(c.model, [](const Rational& q) { return rational_from_double(nearest_double(q)); });
  const State<double> sd = initial_state<double>(c.prompt, md.probe_label_init);
  const State<Rational> sq{sd.d, sd.C, sd.Z.map([](double v) { return rational_from_double(v); })};
  const LayerOptions od{md.kernel, md.probe_is_key}, oq{mq.kernel, mq.probe_is_key};
  const auto rd = apply_layer(sd, md.layers[0], od);
  const auto rq = apply_layer(sq, mq.layers[0], oq);
  const Matrix<double> E = layer_rounding_bound(sd, md.layers[0], od, rd.attention);
  for (std::size_t j = 0; j < E.rows(); ++j)
    for (std::size_t k = 0; k < E.cols(); ++k) {
      if (!std::isfinite(rd.next.Z(j, k))) return CaseVerdict::discarded("overflow");
      const Rational err = abs(rational_from_double(rd.next.Z(j, k)) - rq.next.Z(j, k));
      if (err > rational_from_double(E(j, k)))
        return CaseVerdict::failed("entry (" + std::to_string(j) + ", " + std::to_string(k) + "): error " +
                                   std::to_string(nearest_double(err)) + " > bound " + std::to_string(E(j, k)));
      if (E(j, k) > 0) *worst_ratio = std::max(*worst_ratio, nearest_double(err) / E(j, k));
    }
  return CaseVerdict::held();
}

TEST(DoubleBound, BoundsTheRoundingErrorOfOneLinearLayer) {
  ModelSpec ms;  // linear kernel, every layer form
  double worst = 0;
  const FuzzParams params{99, scaled_cases(200), true};
  const auto out = run_cases(
      "double rounding bound",
      rc::gen::exec([=] {
        FuzzCase c;
        c.prompt = *prompt(PromptSpec{});
        c.model = *model(ms, c.prompt.d, c.prompt.C);
        c.g = GroupElement::identity(c.prompt.d, c.prompt.C, c.prompt.N);
        return c;
      }),
      [&](const FuzzCase& c) { return bound_holds(c, &worst); }, params);
  std::printf("seed %llu: %d cases, largest error / bound %.3g\n", static_cast<unsigned long long>(params.seed),
              out.passed, worst);
  EXPECT_TRUE(out.held) << out.detail;
}

TEST(DoubleBound, IsSmallAtUnitMagnitude) {
  Prompt p;
  p.d = 2;
  p.C = 2;
  p.N = 3;
  p.X = Matrix<Rational>(3, 2);
  const int xs[3][2] = {{1, -1}, {2, 1}, {-1, 1}};
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 2; ++k) p.X(i, k) = Rational(xs[i][k], 3);
  p.labels = {0, 1, 1};
  p.probe = {Rational(1, 2), Rational(1, 5)};
  BasicModel<double> m;
  m.kernel = Kernel::softmax;
  m.layers.push_back(ReducedLayer<double>{{0.5, 2, 0.5, 0.5}, std::nullopt});
  const State<double> s = initial_state<double>(p, m.probe_label_init);
  const LayerOptions o{m.kernel, false};
  const auto r = apply_layer(s, m.layers[0], o);
  const Matrix<double> E = layer_rounding_bound(s, m.layers[0], o, r.attention);
  for (double e : E.data()) {
    EXPECT_GT(e, 0);
    EXPECT_LT(e, 1e-14);
  }
}

}  // namespace
}  // namespace iclcert::properties

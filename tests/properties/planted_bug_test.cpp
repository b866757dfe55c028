// The fuzzer catches what it claims to catch: test-only copies of the full
// equivariant layer with a planted bug are found by E1 in rationals, with the
// right kind of permutation, shrunk to a minimal case, and saved as JSON that
// replays. The bugs live here, never in numerics/.
#include "io/json_reader.hpp"
#include "io/output_file.hpp"
#include "numerics/layer.hpp"
#include "numerics/scalar_rational.hpp"
#include "properties/catalog.hpp"
#include "properties/generators.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

namespace iclcert::properties {
namespace {

using R = Rational;

// Planted bug 1: M(theta) z with the feature sum taken in a fixed order that
// stops one short (the last feature is never summed).
void theta_missing_last_feature(const Theta<R>& th, int d, int C, std::span<const R> z, std::span<R> out) {
  R sx = 0, sy = 0;
  for (int k = 0; k + 1 < d; ++k) sx += z[k];
  for (int c = 0; c < C; ++c) sy += z[d + c];
  for (int k = 0; k < d; ++k) out[k] = th[0] * z[k] + th[1] * sx + th[2] * sy;
  for (int c = 0; c < C; ++c) out[d + c] = th[4] * z[d + c] + th[3] * sx + th[5] * sy;
}

State<R> full_layer_with(const State<R>& s, const FullLayer<R>& layer, const LayerOptions& o,
                         void (*key_map)(const Theta<R>&, int, int, std::span<const R>, std::span<R>)) {
  return apply_heads(
             s, layer.heads.size(), o,
             [&](std::size_t h, auto z, auto out) { key_map(layer.heads[h].score, s.d, s.C, z, out); },
             [&](std::size_t h, auto z, auto out) { apply_theta<R>(layer.heads[h].value, s.d, s.C, z, out); })
      .next;
}

// Planted bug 2: the first training token is skipped as a key (a loop from 1).
State<R> full_layer_skipping_first_key(const State<R>& s, const FullLayer<R>& layer, const LayerOptions& o) {
  State<R> trimmed{s.d, s.C, Matrix<R>(s.rows() - 1, s.d + s.C)};
  for (int j = 1; j < s.rows(); ++j)
    for (int k = 0; k < s.d + s.C; ++k) trimmed.Z(j - 1, k) = s.Z(j, k);
  // Keys and values from rows 1..N-1 only; every query row still updated.
  State<R> next = s;
  for (const auto& head : layer.heads) {
    Matrix<R> K(trimmed.rows() - 1, s.d + s.C), V(trimmed.rows() - 1, s.d + s.C);
    for (int i = 0; i + 1 < trimmed.rows(); ++i) {
      apply_theta<R>(head.score, s.d, s.C, trimmed.Z.row(i), K.row(i));
      apply_theta<R>(head.value, s.d, s.C, trimmed.Z.row(i), V.row(i));
    }
    Matrix<R> A;
    const Matrix<R> agg = attend(s.Z, K, V, o.kernel, A);
    for (int j = 0; j < s.rows(); ++j)
      for (int k = 0; k < s.d + s.C; ++k) next.Z(j, k) += agg(j, k);
  }
  return next;
}

LayerFunction<R> buggy(const Model& m, int bug) {
  return [m, bug](const State<R>& s, std::size_t l) {
    const LayerOptions o{m.kernel, m.probe_is_key};
    const auto& layer = std::get<FullLayer<R>>(m.layers[l]);
    return bug == 1 ? full_layer_with(s, layer, o, &theta_missing_last_feature) : full_layer_skipping_first_key(s, layer, o);
  };
}

// Cases whose models have full layers only (where the bugs live), training keys only.
rc::Gen<FuzzCase> full_layer_cases(PermutationKind kind, int min_N) {
  ModelSpec ms;
  ms.reduced = ms.dense_equivariant = false;
  ms.vary_probe_options = false;
  PromptSpec ps;
  ps.min_N = min_N;
  return fuzz_cases(ps, ms, kind);
}

FuzzOutcome fuzz_bug(int bug, PermutationKind kind) {
  const FuzzParams params{7, scaled_cases(200), true};
  std::printf("planted bug %d vs %s permutations: seed %llu\n", bug, to_string(kind),
              static_cast<unsigned long long>(params.seed));
  return run_cases(
      "planted bug", full_layer_cases(kind, bug == 2 ? 2 : 1),
      [bug](const FuzzCase& c) { return e1_check_exact(c, buggy(c.model, bug)); }, params);
}

TEST(PlantedBug, TheCorrectLayerPassesTheSameCases) {
  const FuzzOutcome out = run_cases(
      "correct layer", full_layer_cases(PermutationKind::composed, 1),
      [](const FuzzCase& c) {
        const BasicModel<R> m = c.model;
        return e1_check_exact(c, model_layers(m));
      },
      FuzzParams{7, scaled_cases(200), true});
  EXPECT_TRUE(out.held) << out.detail;
}

TEST(PlantedBug, AMissingFeatureInASumIsFoundByFeaturePermutationsAndShrunk) {
  const FuzzOutcome out = fuzz_bug(1, PermutationKind::feature);
  ASSERT_FALSE(out.held);
  ASSERT_TRUE(out.counterexample.has_value());
  const FuzzCase& c = *out.counterexample;
  std::printf("found after %d cases, %d shrink steps: %s\n", out.passed, out.shrink_steps, out.detail.c_str());
  EXPECT_EQ(c.g.kind(), "feature");
  // Minimal: two features (one cannot be permuted), the smallest sizes.
  EXPECT_EQ(c.prompt.d, 2);
  EXPECT_EQ(c.prompt.C, 2);
  EXPECT_EQ(c.prompt.N, 1);
  EXPECT_EQ(c.model.layers.size(), 1u);
  EXPECT_EQ(std::get<FullLayer<R>>(c.model.layers[0]).heads.size(), 1u);
  // The same case, through the real layer, holds.
  const BasicModel<R> m = c.model;
  EXPECT_EQ(e1_check_exact(c, model_layers(m)).kind, CaseVerdict::Kind::held);
}

TEST(PlantedBug, AMissingFeatureIsInvisibleToLabelAndTokenPermutations) {
  EXPECT_TRUE(fuzz_bug(1, PermutationKind::label).held);
  EXPECT_TRUE(fuzz_bug(1, PermutationKind::token).held);
}

TEST(PlantedBug, ASkippedKeyIsFoundByTokenPermutations) {
  const FuzzOutcome out = fuzz_bug(2, PermutationKind::token);
  ASSERT_FALSE(out.held);
  ASSERT_TRUE(out.counterexample.has_value());
  std::printf("found after %d cases: %s\n", out.passed, out.detail.c_str());
  EXPECT_EQ(out.counterexample->g.kind(), "token");
  EXPECT_EQ(out.counterexample->prompt.N, 2);
  EXPECT_TRUE(fuzz_bug(2, PermutationKind::feature).held);
}

TEST(PlantedBug, TheCounterexampleIsSavedAsJsonAndReplays) {
  const FuzzOutcome out = fuzz_bug(1, PermutationKind::feature);
  ASSERT_TRUE(out.counterexample.has_value());
  const auto path = std::filesystem::temp_directory_path() / "iclcert-planted-bug-counterexample.json";
  write_output(path.string(),
               counterexample_to_json(Counterexample{"E1-feature", "rational", out.detail, 7, 0, *out.counterexample})
                   .dump(1));
  const Counterexample back = read_counterexample_file(path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(back.property, "E1-feature");
  EXPECT_EQ(back.seed, 7u);
  EXPECT_EQ(back.c.g, out.counterexample->g);
  EXPECT_EQ(back.c.prompt.X, out.counterexample->prompt.X);
  EXPECT_EQ(back.c.prompt.labels, out.counterexample->prompt.labels);
  EXPECT_EQ(e1_check_exact(back.c, buggy(back.c.model, 1)).kind, CaseVerdict::Kind::failed);
}

}  // namespace
}  // namespace iclcert::properties

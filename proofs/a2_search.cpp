// A2 search: for each (beta, gamma) of a grid, one softmax layer with
// alpha = alpha' = 1/2 on sampled small prompts (N = 2..6, d = 1, 2, C = 2, 3).
// The screen runs the core in double (uncertified); every candidate decrease is
// then re-run in Arb ball arithmetic (run_recursion<ArbBall>), and only a
// certified F^1 < F^0 counts as a counterexample. The first one is certified a
// second, independent way by Z3 (a2_instance_query below).
#include "proofs/a2_search.hpp"

#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"
#include "numerics/sampler.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_rational.hpp"
#include "proofs/smt_symbol.hpp"
#include "proofs/symbolic_layer.hpp"

#include <mpfr.h>

#include <optional>

namespace iclcert::proofs {
namespace {

constexpr int kInstancesPerCell = 30;
constexpr long kCertifyBits = 128;
constexpr unsigned kEnclosureBits = 24;

struct Instance {
  Prompt prompt;
  Model model;
  std::uint64_t seed;
};

Model one_layer(const Rational& beta, const Rational& gamma) {
  Model m;
  m.kernel = Kernel::softmax;
  m.layers.push_back(ReducedLayer<Rational>{{beta, gamma, Rational(1, 2), Rational(1, 2)}, std::nullopt});
  return m;
}

Prompt instance_prompt(std::uint64_t seed) {
  const int N = 2 + static_cast<int>(seed % 5), d = 1 + static_cast<int>((seed / 5) % 2);
  const int C = N >= 3 && (seed / 10) % 2 ? 3 : 2;
  return sample_prompt({d, C, N, seed, false, 0, true});
}

// F^1 / F^0 in double, when both are finite.
std::optional<double> screen(const Instance& in) {
  const Trace<double> t = run_recursion<double>(in.prompt, in.model);
  const auto& f0 = t.entries[0].metrics.fisher;
  const auto& f1 = t.entries[1].metrics.fisher;
  using K = Ratio<double>::Kind;
  if (f0.kind != K::finite || f1.kind != K::finite || !(f0.value > 0)) return std::nullopt;
  return f1.value / f0.value;
}

// The certified values of F^0 and F^1 when F^1 < F^0 is certain.
std::optional<Json> certify(const Instance& in) {
  WorkingPrecision scope(kCertifyBits);
  using Tr = ScalarTraits<ArbBall>;
  const Trace<ArbBall> t = run_recursion<ArbBall>(in.prompt, in.model);
  const auto& f0 = t.entries[0].metrics.fisher;
  const auto& f1 = t.entries[1].metrics.fisher;
  using K = Ratio<ArbBall>::Kind;
  if (f0.kind != K::finite || f1.kind != K::finite || !certainly_less(f1.value, f0.value)) return std::nullopt;
  return Json{{"prompt", prompt_to_json(in.prompt)},
              {"model", model_to_json(in.model)},
              {"layer", 1},
              {"seed", in.seed},
              {"fisher_before", {Tr::lower_string(f0.value), Tr::upper_string(f0.value)}},
              {"fisher_after", {Tr::lower_string(f1.value), Tr::upper_string(f1.value)}},
              {"certified_by", "run_recursion<ArbBall> at " + std::to_string(kCertifyBits) +
                                   " bits: every point of fisher_after < every point of fisher_before"}};
}

// [lo, hi] with lo <= exp(s) <= hi, from MPFR's correctly rounded exp with
// directed rounding (trusted: MPFR's correct rounding).
std::pair<Rational, Rational> exp_enclosure(const Rational& s) {
  mpfr_t t, lo, hi;
  mpfr_inits2(96, t, lo, hi, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_q(t, s.backend().data(), MPFR_RNDD);
  mpfr_exp(lo, t, MPFR_RNDD);
  mpfr_set_q(t, s.backend().data(), MPFR_RNDU);
  mpfr_exp(hi, t, MPFR_RNDU);
  std::pair<Rational, Rational> out;
  mpfr_get_q(out.first.backend().data(), lo);
  mpfr_get_q(out.second.backend().data(), hi);
  mpfr_clears(t, lo, hi, static_cast<mpfr_ptr>(nullptr));
  // Outward to multiples of 2^-kEnclosureBits: wider but still sound, and far
  // smaller numbers for nlsat.
  const boost::multiprecision::mpz_int scale = boost::multiprecision::mpz_int(1) << kEnclosureBits;
  const auto floor_div = [](const Rational& q) {
    boost::multiprecision::mpz_int f = numerator(q) / denominator(q);
    if (Rational(f) > q) --f;
    return f;
  };
  out.first = Rational(floor_div(out.first * Rational(scale)), scale);
  out.second = Rational(-floor_div(-out.second * Rational(scale)), scale);
  return out;
}

}  // namespace

// The negation of "F^1 < F^0" over the symbolic layer with the prompt's exact
// points and every softmax weight A_ji (training rows j, keys i) a symbol with
// the constraints the true weights satisfy: sum_i A_ji = 1 and
//   lo_ji / (lo_ji + sum_{k != i} hi_jk) <= A_ji <= hi_ji / (hi_ji + sum_{k != i} lo_jk),
// where [lo, hi] encloses exp(s_jk) (A_ji increases with exp(s_ji) and decreases
// with the others). F^1 = B'/W' is then a ratio of quadratics in A, W' >= 0; unsat
// of B' >= F^0 W' proves F^1 < F^0 (W' = 0 would give F^1 = +inf and is included).
Query a2_instance_query(z3::context& ctx, const Prompt& p, const Model& model, z3::expr* consistency) {
  const auto& c = std::get<ReducedLayer<Rational>>(model.layers[0]).train;
  SymbolicState s = symbolic_initial_state(ctx, p.d, p.C, p.labels);
  for (int i = 0; i < p.N; ++i)
    for (int k = 0; k < p.d; ++k) s.at(i, k) = RatFn::constant(ctx, p.X(i, k));
  for (int k = 0; k < p.d; ++k) s.at(p.N, k) = RatFn::constant(ctx, p.probe[k]);
  std::vector<z3::expr> weights;
  z3::expr constraints = ctx.bool_val(true);
  for (int j = 0; j <= p.N; ++j) {
    std::vector<std::pair<Rational, Rational>> e;
    for (int i = 0; i < p.N; ++i) {
      Rational score = c.gamma * Rational(j < p.N && p.labels[j] == p.labels[i] ? 1 : 0);
      for (int k = 0; k < p.d; ++k) score += c.beta * (j < p.N ? p.X(j, k) : p.probe[k]) * p.X(i, k);
      e.push_back(exp_enclosure(score));
    }
    z3::expr row_sum = ctx.real_val(0);
    for (int i = 0; i < p.N; ++i) {
      weights.push_back(real_symbol(ctx, "A_" + std::to_string(j) + "_" + std::to_string(i)));
      if (j == p.N) continue;  // the probe row does not move the training rows
      Rational others_lo = 0, others_hi = 0;
      for (int k = 0; k < p.N; ++k)
        if (k != i) {
          others_lo += e[k].first;
          others_hi += e[k].second;
        }
      const Rational lo = e[i].first / (e[i].first + others_hi), hi = e[i].second / (e[i].second + others_lo);
      constraints = constraints && weights.back() >= real_term(ctx, lo) && weights.back() <= real_term(ctx, hi);
      row_sum = row_sum + weights.back();
    }
    if (j < p.N) constraints = constraints && row_sum == 1;
  }
  const SymbolicCoefficients coeffs{RatFn::constant(ctx, c.beta), RatFn::constant(ctx, c.gamma),
                                    RatFn::constant(ctx, c.alpha), RatFn::constant(ctx, c.alpha_label)};
  const SymbolicScatter after = symbolic_scatter(apply_symbolic_layer(s, coeffs, ExpForm::given(weights)), p.labels);
  const auto f0 = fisher_ratio(initial_state<Rational>(p, ProbeLabelInit::zero), p.labels, p.C);
  const z3::expr F0 = real_term(ctx, f0.value);
  // The denominators of B' and W' are positive integers here (no division by A).
  if (consistency) *consistency = constraints;
  return {"A2.counterexample_check",
          "F^1 < F^0 on the given instance (exact points, exact F^0) for all softmax weights consistent with "
          "MPFR enclosures of exp",
          constraints && after.between.num * after.within.den >= F0 * after.within.num * after.between.den,
          Method::nlsat};
}

LemmaResult search_a2(const LemmaOptions& options) {
  LemmaResult r;
  r.lemma = "A2";
  r.statement = "beta > 0: F^1 >= F^0 for one softmax layer (alpha = alpha' = 1/2), searched over a (beta, gamma) grid "
                "and sampled prompts with N = 2..6, d = 1, 2, C = 2, 3";
  const std::vector<Rational> betas{Rational(1, 8), Rational(1, 4), Rational(1, 2), Rational(1), Rational(2), Rational(4)};
  const std::vector<Rational> gammas{Rational(0), Rational(1, 4), Rational(1, 2), Rational(1), Rational(2), Rational(4)};
  Json cells = Json::array();
  std::optional<Json> certified;
  std::optional<Instance> first;
  int candidates = 0, spurious = 0;
  for (const Rational& beta : betas)
    for (const Rational& gamma : gammas) {
      int searched = 0, decreasing = 0, certified_here = 0;
      double worst = 1;
      for (int k = 0; k < kInstancesPerCell; ++k) {
        const std::uint64_t seed = 5000 + static_cast<std::uint64_t>(k);
        Instance in{instance_prompt(seed), one_layer(beta, gamma), seed};
        const auto ratio = screen(in);
        if (!ratio) continue;
        ++searched;
        worst = std::min(worst, *ratio);
        if (*ratio >= 1 - 1e-9) continue;
        ++decreasing;
        ++candidates;
        if (auto c = certify(in)) {
          ++certified_here;
          if (!certified) {
            certified = c;
            first = in;
          }
        } else {
          ++spurious;
        }
      }
      cells.push_back({{"beta", to_string(beta)}, {"gamma", to_string(gamma)}, {"instances", searched},
                       {"decreasing", decreasing}, {"certified", certified_here}, {"min_ratio_double", worst}});
    }
  r.evidence["grid"] = cells;
  r.evidence["seeds"] = "5000 .. " + std::to_string(5000 + kInstancesPerCell - 1) + " per cell (sample_prompt)";
  r.evidence["candidates"] = candidates;
  r.evidence["uncertified_candidates"] = spurious;
  if (certified) {
    r.verdict = Verdict::refuted;
    r.counterexample = *certified;
    // A second certificate, by Z3 with certified exp enclosures.
    z3::context ctx;
    z3::expr consistency = ctx.bool_val(true);
    const Query q = a2_instance_query(ctx, first->prompt, first->model, &consistency);
    if (options.export_smtlib) r.smtlib.push_back({q.name, to_smtlib(q)});
    const QueryOutcome o = solve(q, options.timeout_ms, options.rlimit);
    r.steps.push_back({q.name, q.encodes, "nlsat", o.answer, o.seconds, o.reason, o.rlimit_used});
    // Guard against a vacuous unsat: the constraints alone must be satisfiable.
    const QueryOutcome guard =
        solve({"A2.constraints_consistent", "", consistency, Method::nlsat}, options.timeout_ms, options.rlimit);
    const bool second = o.answer == Answer::unsat && guard.answer == Answer::sat;
    r.counterexample["z3_check"] = std::string(answer_name(o.answer)) +
                                   (second ? " (a second certificate: F^1 < F^0 for every exp value "
                                                                "in the MPFR enclosures)"
                                                              : " (no second certificate)");
  }
  std::string none;
  for (const auto& c : cells)
    if (c["decreasing"] == 0)
      none += (none.empty() ? "" : ", ") + std::string("(") + c["beta"].get<std::string>() + ", " +
              c["gamma"].get<std::string>() + ")";
  r.evidence["cells_without_decrease"] = none;
  r.summary = std::to_string(candidates) + " decreasing instances, " + std::to_string(candidates - spurious) +
              " certified; (beta, gamma) cells with none: " + (none.empty() ? "none" : none);
  return r;
}

}  // namespace iclcert::proofs

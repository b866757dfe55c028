#include "proofs/lemmas.hpp"

#include "proofs/a1u_layers.hpp"
#include "proofs/a2_search.hpp"
#include "proofs/smt_symbol.hpp"
#include "proofs/symbolic_layer.hpp"

#include <chrono>
#include <stdexcept>

namespace iclcert::proofs {
namespace {

// Runs a lemma's queries in order, exporting and recording each.
class Proof {
 public:
  Proof(LemmaResult& result, const LemmaOptions& options) : result_(result), options_(options) {}

  Answer run(const Query& q, std::optional<z3::model>* model = nullptr) {
    if (options_.export_smtlib) result_.smtlib.push_back({q.name, to_smtlib(q)});
    QueryOutcome o = solve(q, options_.timeout_ms, options_.rlimit);
    result_.steps.push_back({q.name, q.encodes, q.method == Method::normalise ? "normalise" : "nlsat", o.answer,
                             o.seconds, o.reason, o.rlimit_used});
    if (model) *model = o.model;
    return o.answer;
  }

  // proved iff every step was unsat; undecided otherwise (callers handle sat).
  void conclude() {
    bool all = !result_.steps.empty();
    for (const auto& s : result_.steps) all = all && s.answer == Answer::unsat;
    result_.verdict = all ? Verdict::proved : Verdict::undecided;
  }

 private:
  LemmaResult& result_;
  const LemmaOptions& options_;
};

z3::expr any_nonzero(z3::context& ctx, const std::vector<std::pair<RatFn, RatFn>>& pairs) {
  z3::expr_vector parts(ctx);
  for (const auto& [a, b] : pairs) parts.push_back(cleared_difference(a, b) != 0);
  return z3::mk_or(parts);
}

z3::expr any_nonpositive(z3::context& ctx, const std::vector<z3::expr>& terms) {
  z3::expr_vector parts(ctx);
  for (const auto& t : terms) parts.push_back(t <= 0);
  return z3::mk_or(parts);
}

// F = B/W, F' = B'/W' with W, W' > 0: F' > F iff B' W > B W'. The final step of
// A1 and A1u, over abstract reals (hypotheses given by `premises`).
Query fisher_step(const std::string& name, const std::string& encodes, const z3::expr& premises,
                  const z3::expr& W, const z3::expr& B, const z3::expr& W2, const z3::expr& B2) {
  return {name, encodes, premises && W > 0 && B > 0 && B2 * W <= B * W2, Method::nlsat};
}

std::vector<int> interleaved_labels(int C, int per_class) {
  std::vector<int> labels;
  for (int r = 0; r < per_class; ++r)
    for (int c = 0; c < C; ++c) labels.push_back(c);
  return labels;
}

// k = 1 + alpha (E - 1) / (E + C - 1).
RatFn a1_factor(z3::context& ctx, const RatFn& alpha, const RatFn& E, int C) {
  const RatFn one = RatFn::constant(ctx, 1);
  return one + alpha * (E - one) / (E + RatFn::constant(ctx, C - 1));
}

void prove_a1_case(Proof& proof, z3::context& ctx, int C, int d, const std::string& prefix, const z3::expr& alpha_lower) {
  const z3::expr alpha = real_symbol(ctx, "alpha"), E = real_symbol(ctx, "E"), gamma = real_symbol(ctx, "gamma");
  const std::vector<int> labels = interleaved_labels(C, 2);
  const SymbolicState s = symbolic_initial_state(ctx, d, C, labels);
  const SymbolicCoefficients coeffs{RatFn::constant(ctx, 0), RatFn::of(gamma), RatFn::of(alpha),
                                    RatFn::of(real_symbol(ctx, "alpha_label"))};
  const SymbolicState next = apply_symbolic_layer(s, coeffs, ExpForm::label_power(E));
  const SymbolicScatter before = symbolic_scatter(s, labels), after = symbolic_scatter(next, labels);
  const RatFn k = a1_factor(ctx, RatFn::of(alpha), RatFn::of(E), C);
  const z3::expr hyp = alpha > alpha_lower && E > 1;
  const std::string where = "C = " + std::to_string(C) + ", d = " + std::to_string(d) + ", N = " +
                            std::to_string(2 * C) + " symbolic points, beta = 0, one-hot labels";

  std::vector<std::pair<RatFn, RatFn>> means;
  for (int c = 0; c < C; ++c)
    for (int f = 0; f < d; ++f)
      means.push_back({after.class_means[c * d + f] - after.mean[f], k * (before.class_means[c * d + f] - before.mean[f])});
  proof.run({prefix + ".mean_scaling", "every mu_c - mu is multiplied by k = 1 + alpha (E-1)/(E+C-1) (" + where + ")",
             any_nonzero(ctx, means), Method::normalise});
  proof.run({prefix + ".within_unchanged", "the within-class scatter is unchanged (" + where + ")",
             any_nonzero(ctx, {{after.within, before.within}}), Method::normalise});
  proof.run({prefix + ".between_scales", "the between-class scatter is multiplied by k^2 (" + where + ")",
             any_nonzero(ctx, {{after.between, k * k * before.between}}), Method::normalise});
  std::vector<z3::expr> dens{k.den, after.within.den, after.between.den};
  for (const auto& [a, b] : means) dens.push_back(a.den);
  proof.run({prefix + ".denominators_positive",
             "alpha > " + alpha_lower.to_string() + ", E > 1 imply every denominator of the identities is positive",
             hyp && any_nonpositive(ctx, dens), Method::nlsat});
  proof.run({prefix + ".factor_exceeds_one", "alpha > " + alpha_lower.to_string() + ", E > 1 imply k > 1",
             hyp && k.num * k.den <= k.den * k.den, Method::nlsat});
}

// A1 at the class level for every common class size m (a symbol): the class-mean
// update (the layer grouped by class) scales every mu_c - mu by k, and so the
// between-class scatter m sum_c (mu_c - mu)^2 by k^2. One coordinate: the update
// acts on each coordinate alike. The link from the points to this update is
// checked by prove_a1_case at m = 2 only.
void prove_a1_class_level(Proof& proof, z3::context& ctx, int C, const std::string& prefix) {
  const z3::expr alpha = real_symbol(ctx, "alpha"), E = real_symbol(ctx, "E"), m = real_symbol(ctx, "m");
  const RatFn A = RatFn::of(alpha), EE = RatFn::of(E), M = RatFn::of(m);
  std::vector<RatFn> n, mu;
  for (int c = 0; c < C; ++c) {
    n.push_back(M);
    mu.push_back(RatFn::of(real_symbol(ctx, "mu_" + std::to_string(c))));
  }
  const std::vector<RatFn> next = class_mean_update(n, mu, A, EE);
  const auto mean = [&](const std::vector<RatFn>& v) {
    RatFn s = RatFn::constant(ctx, 0);
    for (const RatFn& x : v) s = s + x;
    return s / RatFn::constant(ctx, C);
  };
  const auto between = [&](const std::vector<RatFn>& v) {
    const RatFn g = mean(v);
    RatFn b = RatFn::constant(ctx, 0);
    for (const RatFn& x : v) b = b + M * (x - g) * (x - g);
    return b;
  };
  const RatFn k = a1_factor(ctx, A, EE, C);
  std::vector<std::pair<RatFn, RatFn>> means;
  std::vector<z3::expr> dens{k.den};
  for (int c = 0; c < C; ++c) {
    means.push_back({next[c] - mean(next), k * (mu[c] - mean(mu))});
    dens.push_back(next[c].den);
  }
  const std::string where = "C = " + std::to_string(C) + " classes of m points each, symbolic m, mu_c, alpha, E";
  proof.run({prefix + ".mean_scaling", "the class-mean update multiplies every mu_c - mu by k (" + where + ")",
             any_nonzero(ctx, means), Method::normalise});
  proof.run({prefix + ".between_scales", "the class-mean update multiplies the between-class scatter by k^2 (" + where + ")",
             any_nonzero(ctx, {{between(next), k * k * between(mu)}}), Method::normalise});
  proof.run({prefix + ".denominators_positive", "m > 0, E > 1 imply every denominator above is positive",
             m > 0 && E > 1 && any_nonpositive(ctx, dens), Method::nlsat});
}

LemmaResult prove_a1(const LemmaOptions& o) {
  if (o.classes < 2 || o.classes > 4) throw std::invalid_argument("--classes: A1 is encoded for C = 2, 3, 4");
  LemmaResult r;
  r.lemma = "A1";
  r.statement = "Exactly two points per class (N = 2C symbolic points, C = " + std::to_string(o.classes) +
                ", d = 1 and 2), beta = 0, gamma > 0 (E = exp(gamma) > 1), alpha > 0, one layer: every mu_c - mu "
                "scales by k = 1 + alpha (E - 1)/(E + C - 1), the within-class scatter is unchanged, and the "
                "Fisher ratio strictly increases when W, B > 0. For any common class size m (symbolic), only the "
                "class level is machine-checked (the class-mean update scales mu_c - mu by k and the between-class "
                "scatter by k^2); the link from the points to the class means for m != 2 is the hand step of "
                "theory/smt_lemmas.md";
  z3::context ctx;
  Proof proof(r, o);
  for (int d = 1; d <= 2; ++d)
    prove_a1_case(proof, ctx, o.classes, d, "A1.C" + std::to_string(o.classes) + ".d" + std::to_string(d),
                  ctx.real_val(0));
  prove_a1_class_level(proof, ctx, o.classes, "A1.C" + std::to_string(o.classes) + ".class_level");
  const z3::expr W = real_symbol(ctx, "W"), B = real_symbol(ctx, "B"), kk = real_symbol(ctx, "k");
  proof.run(fisher_step("A1.fisher_increases",
                        "W > 0, B > 0, k > 1, W' = W, B' = k^2 B imply B'/W' > B/W",
                        kk > 1 && W > 0, W, B, W, kk * kk * B));
  proof.conclude();
  return r;
}

// A1 with alpha > -1/2: false (alpha < 0 shrinks the class means). The model of
// the sat step is checked exactly in the lemma's own variables.
LemmaResult prove_a1_false(const LemmaOptions& o) {
  LemmaResult r;
  r.lemma = "A1-false";
  r.statement = "DELIBERATELY FALSE variant of A1: with alpha > -1/2 (instead of alpha > 0), k = 1 + alpha (E - "
                "1)/(E + C - 1) > 1 for C = " + std::to_string(o.classes);
  z3::context ctx;
  Proof proof(r, o);
  const z3::expr alpha = real_symbol(ctx, "alpha"), E = real_symbol(ctx, "E");
  const RatFn k = a1_factor(ctx, RatFn::of(alpha), RatFn::of(E), o.classes);
  std::optional<z3::model> model;
  const Answer a = proof.run({"A1-false.factor_exceeds_one", "alpha > -1/2, E > 1 imply k > 1 (false)",
                              alpha > ctx.real_val("-1/2") && E > 1 && k.num * k.den <= k.den * k.den,
                              Method::nlsat},
                             &model);
  r.verdict = Verdict::undecided;
  if (a == Answer::sat && model) {
    try {
      const Rational al = numeral_value(model->eval(alpha, true)), e = numeral_value(model->eval(E, true));
      const Rational kv = evaluate(k, {alpha, E}, {al, e});
      // Exact re-check of the variant's hypotheses and of the failure k <= 1.
      if (al > Rational(-1, 2) && e > 1 && kv <= 1) {
        r.verdict = Verdict::refuted;
        r.counterexample = {{"alpha", to_string(al)}, {"E", to_string(e)}, {"k", to_string(kv)},
                            {"checked", "exactly, in rational arithmetic"}};
      }
    } catch (const std::invalid_argument& e) {
      r.evidence["candidate_not_rational"] = e.what();
    }
  }
  return r;
}

LemmaResult prove_a1u(const LemmaOptions& o) {
  LemmaResult r;
  r.lemma = "A1u";
  r.statement = "Unbalanced classes, C = 3, beta = 0, E > 1, alpha > 0, one layer: the Fisher ratio strictly "
                "increases when W, B > 0. Machine-checked: at the class level for symbolic sizes n_c > 0 (the "
                "between-class scatter of the class-mean update strictly increases); the link from the points to "
                "the class means (each class mean moves by the class-mean update, the within-class scatter is "
                "unchanged) only for the class sizes (1,2,3) and (4,1,1), d = 2. For other sizes that link is the "
                "hand step of theory/smt_lemmas.md, not machine-checked";
  z3::context ctx;
  Proof proof(r, o);
  const z3::expr alpha = real_symbol(ctx, "alpha"), E = real_symbol(ctx, "E");
  const RatFn A = RatFn::of(alpha), EE = RatFn::of(E), one = RatFn::constant(ctx, 1);

  // 1. The point-level layer reduces to the class-mean update, at concrete unbalanced sizes.
  for (const std::vector<int>& labels : {std::vector<int>{0, 1, 1, 2, 2, 2}, std::vector<int>{0, 0, 0, 0, 1, 2}}) {
    std::string tag = "A1u.link.sizes";
    std::vector<int> n(3, 0);
    for (int c : labels) ++n[c];
    for (int c : n) tag += std::to_string(c);
    const int d = 2;
    const SymbolicState s = symbolic_initial_state(ctx, d, 3, labels);
    const SymbolicCoefficients coeffs{RatFn::constant(ctx, 0), RatFn::of(real_symbol(ctx, "gamma")), A,
                                      RatFn::of(real_symbol(ctx, "alpha_label"))};
    const SymbolicState next = apply_symbolic_layer(s, coeffs, ExpForm::label_power(E));
    const SymbolicScatter before = symbolic_scatter(s, labels), after = symbolic_scatter(next, labels);
    std::vector<std::pair<RatFn, RatFn>> means;
    std::vector<z3::expr> dens;
    for (int f = 0; f < d; ++f) {
      std::vector<RatFn> nn, mu;
      for (int c = 0; c < 3; ++c) {
        nn.push_back(RatFn::constant(ctx, n[c]));
        mu.push_back(before.class_means[c * d + f]);
      }
      const std::vector<RatFn> agg = class_mean_update(nn, mu, A, EE);
      for (int c = 0; c < 3; ++c) {
        means.push_back({after.class_means[c * d + f], agg[c]});
        dens.push_back(after.class_means[c * d + f].den);
        dens.push_back(agg[c].den);
      }
    }
    const std::string where = "class sizes " + tag.substr(tag.size() - 3) + ", d = 2 symbolic points";
    proof.run({tag + ".class_means", "the layer moves each class mean as the class-mean update says (" + where + ")",
               any_nonzero(ctx, means), Method::normalise});
    proof.run({tag + ".within_unchanged", "the within-class scatter is unchanged (" + where + ")",
               any_nonzero(ctx, {{after.within, before.within}}), Method::normalise});
    dens.push_back(after.within.den);
    proof.run({tag + ".denominators_positive", "E > 1 implies every denominator above is positive (" + where + ")",
               E > 1 && any_nonpositive(ctx, dens), Method::nlsat});
  }

  // 2. Class level, symbolic sizes, split into small identities (one query on
  // the composed rational functions does not finish: theory/smt_lemmas.md).
  std::vector<RatFn> n, mu, v, q;
  std::vector<z3::expr> n_sym;
  for (int c = 0; c < 3; ++c) {
    n_sym.push_back(real_symbol(ctx, "n_" + std::to_string(c)));
    n.push_back(RatFn::of(n_sym.back()));
    mu.push_back(RatFn::of(real_symbol(ctx, "mu_" + std::to_string(c))));
  }
  const RatFn N = n[0] + n[1] + n[2];
  const auto weighted_sum = [&](const std::vector<RatFn>& m) { return n[0] * m[0] + n[1] * m[1] + n[2] * m[2]; };
  // between(m) = sum_c n_c (m_c - mean)^2, mean = sum n_c m_c / N.
  const auto between = [&](const std::vector<RatFn>& m) {
    const RatFn g = weighted_sum(m) / N;
    RatFn b = RatFn::constant(ctx, 0);
    for (int c = 0; c < 3; ++c) b = b + n[c] * (m[c] - g) * (m[c] - g);
    return b;
  };
  const RatFn g = weighted_sum(mu) / N;
  for (int c = 0; c < 3; ++c) {
    v.push_back(mu[c] - g);
    q.push_back(A * (EE - one) * n[c] / (N + (EE - one) * n[c]));
  }
  const std::vector<RatFn> mu2 = class_mean_update(n, mu, A, EE);
  std::vector<std::pair<RatFn, RatFn>> forms;
  for (int c = 0; c < 3; ++c) forms.push_back({mu2[c], (one + A) * g + (one + q[c]) * v[c]});
  proof.run({"A1u.class_update_form",
             "the class-mean update is mu_c' = (1 + alpha) mu + (1 + q_c) v_c with v_c = mu_c - mu, q_c = alpha (E-1) "
             "n_c/(N + (E-1) n_c), symbolic n_c, mu_c, alpha, E",
             any_nonzero(ctx, forms), Method::normalise});
  proof.run({"A1u.deviations_centred", "sum_c n_c v_c = 0 for v_c = mu_c - mu",
             any_nonzero(ctx, {{weighted_sum(v), RatFn::constant(ctx, 0)}}), Method::normalise});
  const RatFn T = RatFn::of(real_symbol(ctx, "T"));
  std::vector<RatFn> w, shifted;
  for (int c = 0; c < 3; ++c) {
    w.push_back(RatFn::of(real_symbol(ctx, "w_" + std::to_string(c))));
    shifted.push_back(T + w.back());
  }
  proof.run({"A1u.between_translation", "between(T + w_c) = between(w_c) for symbolic n_c, T, w_c",
             any_nonzero(ctx, {{between(shifted), between(w)}}), Method::normalise});
  std::vector<RatFn> Qs, Vs, UV;
  for (int c = 0; c < 3; ++c) {
    Qs.push_back(RatFn::of(real_symbol(ctx, "Q_" + std::to_string(c))));
    Vs.push_back(RatFn::of(real_symbol(ctx, "V_" + std::to_string(c))));
    UV.push_back((one + Qs[c]) * Vs[c]);
  }
  RatFn lagrange = RatFn::constant(ctx, 0), linear = RatFn::constant(ctx, 0);
  for (int c = 0; c < 3; ++c) {
    for (int e = c + 1; e < 3; ++e) {
      const RatFn diff = Qs[c] * Vs[c] - Qs[e] * Vs[e];
      lagrange = lagrange + n[c] * n[e] * diff * diff;
    }
    linear = linear + n[c] * Qs[c] * Vs[c] * Vs[c];
  }
  std::vector<RatFn> QV;
  for (int c = 0; c < 3; ++c) QV.push_back(Qs[c] * Vs[c]);
  const RatFn rhs = lagrange + RatFn::constant(ctx, 2) * N * linear -
                    RatFn::constant(ctx, 2) * weighted_sum(Vs) * weighted_sum(QV);
  proof.run({"A1u.lagrange_identity",
             "N (between((1 + Q_c) V_c) - between(V_c)) = sum_{c<c'} n_c n_c' (Q_c V_c - Q_c' V_c')^2 + 2 N sum_c n_c "
             "Q_c V_c^2 - 2 (sum n_c V_c)(sum n_c Q_c V_c), symbolic n_c, Q_c, V_c",
             any_nonzero(ctx, {{N * (between(UV) - between(Vs)), rhs}}), Method::normalise});
  const z3::expr hyp = alpha > 0 && E > 1 && n_sym[0] > 0 && n_sym[1] > 0 && n_sym[2] > 0;
  std::vector<z3::expr> positives{N.num};
  for (int c = 0; c < 3; ++c) {
    positives.push_back(q[c].num * q[c].den);
    positives.push_back(mu2[c].den);
  }
  positives.push_back(g.den);
  for (const auto& f : forms) positives.push_back(f.first.den * f.second.den);
  proof.run({"A1u.factors_positive", "n_c > 0, alpha > 0, E > 1 imply N > 0, q_c > 0 and positive denominators",
             hyp && any_nonpositive(ctx, positives), Method::nlsat});
  // Positivity of the right-hand side (with sum n_c V_c = 0), split in three
  // (nlsat does not finish on it in one piece): each Lagrange term is >= 0; each
  // n_c Q_c V_c^2 is >= 0, and > 0 where n_c V_c^2 > 0; and the sum of such terms is
  // positive once B = sum n_c V_c^2 > 0.
  {
    const z3::expr n1 = real_symbol(ctx, "n"), n2 = real_symbol(ctx, "n'"), t = real_symbol(ctx, "t"),
                   Q = real_symbol(ctx, "Q"), V = real_symbol(ctx, "V");
    proof.run({"A1u.rhs.lagrange_terms_nonnegative", "n > 0, n' > 0 imply n n' t^2 >= 0 (t = Q_c V_c - Q_c' V_c')",
               n1 > 0 && n2 > 0 && n1 * n2 * t * t < 0, Method::nlsat});
    proof.run({"A1u.rhs.linear_terms_positive",
               "n > 0, Q > 0 imply n Q V^2 >= 0, and n Q V^2 > 0 when n V^2 > 0",
               n1 > 0 && Q > 0 && (n1 * Q * V * V < 0 || (n1 * V * V > 0 && n1 * Q * V * V <= 0)), Method::nlsat});
    z3::expr premises = real_symbol(ctx, "N") > 0, lag = ctx.real_val(0), lin = ctx.real_val(0), bsum = ctx.real_val(0);
    for (int c = 0; c < 3; ++c) {
      const z3::expr L = real_symbol(ctx, "L_" + std::to_string(c)),
                     M = real_symbol(ctx, "M_" + std::to_string(c)),
                     b = real_symbol(ctx, "b_" + std::to_string(c));
      premises = premises && L >= 0 && M >= 0 && b >= 0 && z3::implies(b > 0, M > 0);
      lag = lag + L;
      lin = lin + M;
      bsum = bsum + b;
    }
    proof.run({"A1u.rhs.sum_positive",
               "L_cc' >= 0, M_c >= 0, b_c >= 0, (b_c > 0 implies M_c > 0), sum b_c > 0, N > 0 imply sum L + 2 N sum M > 0",
               premises && bsum > 0 && lag + 2 * real_symbol(ctx, "N") * lin <= 0, Method::nlsat});
  }
  const z3::expr W = real_symbol(ctx, "W"), B = real_symbol(ctx, "B"), B2 = real_symbol(ctx, "B2"),
                 R = real_symbol(ctx, "R"), NN = real_symbol(ctx, "N");
  proof.run(fisher_step("A1u.fisher_increases", "W > 0, B > 0, N > 0, R > 0, N (B' - B) = R imply B'/W > B/W",
                        NN > 0 && R > 0 && NN * (B2 - B) == R, W, B, W, B2));
  proof.conclude();
  return r;
}

// E1: layer(g . z) = g . layer(z) for a feature, a label and a training-token
// transposition, over a fully symbolic state and symbolic coefficients.
LemmaResult prove_e1(const LemmaOptions& o) {
  LemmaResult r;
  r.lemma = "E1";
  r.statement = "The one-layer map (reduced form, symbolic beta, gamma, alpha, alpha', general state with N = 3, d = "
                "2, C = 2, probe included) commutes with the feature transposition (0 1), the label transposition "
                "(0 1) and the training-token transposition (0 1), for the linear kernel and for softmax with exp "
                "uninterpreted (so for every positive kernel function)";
  z3::context ctx;
  Proof proof(r, o);
  const int N = 3, d = 2, C = 2;
  const SymbolicState s = symbolic_general_state(ctx, N, d, C);
  const SymbolicCoefficients coeffs{RatFn::of(real_symbol(ctx, "beta")), RatFn::of(real_symbol(ctx, "gamma")),
                                    RatFn::of(real_symbol(ctx, "alpha")), RatFn::of(real_symbol(ctx, "alpha_label"))};
  const z3::func_decl f = real_function(ctx, "exp", 1);
  struct Perm {
    std::string name;
    std::vector<int> rows, cols;  // new row j is old row rows[j]; likewise columns
  };
  std::vector<int> id_rows{0, 1, 2, 3}, id_cols{0, 1, 2, 3};
  const std::vector<Perm> perms{{"feature", id_rows, {1, 0, 2, 3}},
                                {"label", id_rows, {0, 1, 3, 2}},
                                {"token", {1, 0, 2, 3}, id_cols}};
  const auto act = [&](const Perm& p, const SymbolicState& in) {
    SymbolicState out = in;
    for (int j = 0; j <= N; ++j)
      for (int k = 0; k < d + C; ++k) out.at(j, k) = in.at(p.rows[j], p.cols[k]);
    return out;
  };
  for (const auto& [form_name, form] : {std::pair<std::string, ExpForm>{"linear", ExpForm::linear()},
                                        std::pair<std::string, ExpForm>{"softmax", ExpForm::uninterpreted(f)}}) {
    for (const Perm& p : perms) {
      const SymbolicState lhs = apply_symbolic_layer(act(p, s), coeffs, form);
      const SymbolicState rhs = act(p, apply_symbolic_layer(s, coeffs, form));
      std::vector<std::pair<RatFn, RatFn>> entries;
      for (std::size_t k = 0; k < lhs.Z.size(); ++k) entries.push_back({lhs.Z[k], rhs.Z[k]});
      proof.run({"E1." + form_name + "." + p.name, "layer(g z) = g layer(z) for the " + p.name +
                                                       " transposition, " + form_name + " kernel, every entry",
                 any_nonzero(ctx, entries), Method::normalise});
    }
  }
  proof.conclude();
  return r;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::proved: return "proved";
    case Verdict::refuted: return "refuted";
    case Verdict::undecided: return "undecided";
  }
  return "undecided";
}

const std::vector<std::string>& lemma_names() {
  static const std::vector<std::string> names{"A1", "A1u", "A1u-layers", "A2", "E1", "A1-false"};
  return names;
}

LemmaResult prove_lemma(const std::string& name, const LemmaOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LemmaResult r;
  if (name == "A1") r = prove_a1(options);
  else if (name == "A1u") r = prove_a1u(options);
  else if (name == "A1u-layers") r = search_a1u_layers(options);
  else if (name == "A2") r = search_a2(options);
  else if (name == "E1") r = prove_e1(options);
  else if (name == "A1-false") r = prove_a1_false(options);
  else throw std::invalid_argument("--lemma " + name + ": unknown lemma (A1, A1u, A1u-layers, A2, E1, A1-false)");
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace iclcert::proofs

#include "properties/catalog.hpp"

#include "io/trace_io.hpp"
#include "numerics/equivariant_projection.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/rigorous.hpp"
#include "numerics/mpfr_real.hpp"
#include "numerics/precision.hpp"
#include "numerics/recursion.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "properties/generators.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace iclcert::properties {
namespace {

long arith_bits(const std::string& arith, const char* prefix) {
  const std::string p = prefix;
  if (arith.rfind(p, 0) != 0) return 0;
  char* end = nullptr;
  const long bits = std::strtol(arith.c_str() + p.size(), &end, 10);
  if (*end != '\0' || bits < kMinMpfrBits || bits > kMaxMpfrBits)
    throw std::invalid_argument("--arith " + arith + ": expected " + p + "BITS with BITS from " +
                                std::to_string(kMinMpfrBits) + " to " + std::to_string(kMaxMpfrBits));
  return bits;
}

}  // namespace

rc::Gen<FuzzCase> fuzz_cases(const PromptSpec& ps, const ModelSpec& ms, PermutationKind kind) {
  return rc::gen::exec([=] {
    FuzzCase c;
    c.prompt = *prompt(ps);
    c.model = *model(ms, c.prompt.d, c.prompt.C);
    c.g = *group_element(c.prompt.d, c.prompt.C, c.prompt.N, kind);
    return c;
  });
}

namespace {

ModelSpec linear_models() { return ModelSpec{}; }
ModelSpec any_kernel_models() {
  ModelSpec m;
  m.kernels = ModelSpec::Kernels::both;
  return m;
}

std::string describe_g(const GroupElement& g) {
  return "g = (" + g.kind() + ": features " + to_string(g.features) + ", labels " + to_string(g.labels) +
         ", tokens " + to_string(g.tokens) + ")";
}

// Two enclosures of one true value must overlap; disjoint ones certify a difference.
bool certainly_different(const ArbBall& a, const ArbBall& b) {
  using Tr = ScalarTraits<ArbBall>;
  return Tr::upper(a) < Tr::lower(b) || Tr::upper(b) < Tr::lower(a);
}

std::string interval_entry(const ArbBall& a) {
  std::string s = "[";
  s += ScalarTraits<ArbBall>::lower_string(a);
  s += ", ";
  s += ScalarTraits<ArbBall>::upper_string(a);
  s += ']';
  return s;
}

// ---- E1 -------------------------------------------------------------------

CaseVerdict e1_check_interval(const FuzzCase& c, long bits) {
  WorkingPrecision scope(bits);
  const BasicModel<ArbBall> m = convert_model(c.model, [](const Rational& q) { return from_rational<ArbBall>(q); });
  const LayerFunction<ArbBall> layer = model_layers(m);
  State<ArbBall> s = initial_state<ArbBall>(c.prompt, m.probe_label_init);
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const State<ArbBall> next = layer(s, l);
    const Matrix<ArbBall> lhs = layer(act(c.g, s), l).Z;
    const Matrix<ArbBall> rhs = act(c.g, next).Z;
    for (std::size_t j = 0; j < lhs.rows(); ++j)
      for (std::size_t k = 0; k < lhs.cols(); ++k)
        if (certainly_different(lhs(j, k), rhs(j, k)))
          return CaseVerdict::failed("layer " + std::to_string(l + 1) + ", row " + std::to_string(j) + ", column " +
                                     std::to_string(k) + ": layer(g.state) in " + interval_entry(lhs(j, k)) +
                                     " and g.layer(state) in " + interval_entry(rhs(j, k)) +
                                     " are disjoint; " + describe_g(c.g));
    s = next;
  }
  return CaseVerdict::held();
}

CaseVerdict e1_check_double(const FuzzCase& c) {
  const BasicModel<double> m = convert_model(c.model, [](const Rational& q) { return nearest_double(q); });
  const State<double> s = initial_state<double>(c.prompt, m.probe_label_init);
  try {
    if (auto v = e1_bounded(m, s, c.g)) return CaseVerdict::failed(v->describe() + "; " + describe_g(c.g));
  } catch (const std::domain_error&) {
    return CaseVerdict::discarded("beyond double's range or resolution");
  }
  return CaseVerdict::held();
}

// ---- E2 -------------------------------------------------------------------

Model as_full(const Model& reduced) {
  Model full = reduced;
  full.layers.clear();
  for (const auto& layer : reduced.layers) {
    const auto& r = std::get<ReducedLayer<Rational>>(layer);
    const auto& c = r.train;
    full.layers.push_back(FullLayer<Rational>{{FullHead<Rational>{Theta<Rational>{c.beta, 0, 0, 0, c.gamma, 0},
                                                                  Theta<Rational>{c.alpha, 0, 0, 0, c.alpha_label, 0}}}});
  }
  return full;
}

rc::Gen<FuzzCase> e2_cases(bool softmax_too) {
  ModelSpec ms;
  if (softmax_too) ms.kernels = ModelSpec::Kernels::both;
  ms.full = ms.dense_equivariant = ms.probe_overrides = false;
  ms.max_layers = 3;
  return fuzz_cases(PromptSpec{}, ms, PermutationKind::composed);
}

CaseVerdict e2_check_interval(const FuzzCase& c, long bits) {
  WorkingPrecision scope(bits);
  const Trace<ArbBall> reduced = run_recursion<ArbBall>(c.prompt, c.model);
  const Trace<ArbBall> full = run_recursion<ArbBall>(c.prompt, as_full(c.model));
  for (std::size_t t = 0; t < reduced.entries.size(); ++t) {
    const auto& a = reduced.entries[t].state.Z;
    const auto& b = full.entries[t].state.Z;
    for (std::size_t j = 0; j < a.rows(); ++j)
      for (std::size_t k = 0; k < a.cols(); ++k)
        if (certainly_different(a(j, k), b(j, k)))
          return CaseVerdict::failed("depth " + std::to_string(t) + ", row " + std::to_string(j) + ", column " +
                                     std::to_string(k) + ": reduced in " + interval_entry(a(j, k)) +
                                     " and full in " + interval_entry(b(j, k)) + " are disjoint");
  }
  return CaseVerdict::held();
}

CaseVerdict e2_check(const FuzzCase& c) {
  const Trace<Rational> reduced = run_recursion<Rational>(c.prompt, c.model);
  const Trace<Rational> full = run_recursion<Rational>(c.prompt, as_full(c.model));
  for (std::size_t t = 0; t < reduced.entries.size(); ++t) {
    const auto& a = reduced.entries[t].state.Z;
    const auto& b = full.entries[t].state.Z;
    for (std::size_t j = 0; j < a.rows(); ++j)
      for (std::size_t k = 0; k < a.cols(); ++k)
        if (a(j, k) != b(j, k))
          return CaseVerdict::failed("depth " + std::to_string(t) + ", row " + std::to_string(j) + ", column " +
                                     std::to_string(k) + ": reduced " + iclcert::to_string(a(j, k)) + " but full " +
                                     iclcert::to_string(b(j, k)));
  }
  return CaseVerdict::held();
}

// ---- A1 -------------------------------------------------------------------

rc::Gen<FuzzCase> a1_cases() {
  PromptSpec ps;
  ps.balanced = true;
  ps.min_N = 8;  // at least two points per class, so that within > 0 is possible
  ps.max_N = 12;
  return rc::gen::exec([=] {
    FuzzCase c;
    c.prompt = *prompt(ps);
    c.model = *a1_model(3);
    c.g = GroupElement::identity(c.prompt.d, c.prompt.C, c.prompt.N);
    return c;
  });
}

template <Scalar T>
CaseVerdict a1_check(const FuzzCase& c) {
  // The hypotheses 0 < within and 0 < between are decided exactly on the prompt;
  // with beta = 0 within is unchanged and between only grows, so they hold at every
  // depth, and rounding noise of a degenerate prompt is never judged.
  const auto f_exact = fisher_ratio(initial_state<Rational>(c.prompt, c.model.probe_label_init), c.prompt.labels,
                                    c.prompt.C);
  if (f_exact.kind != Ratio<Rational>::Kind::finite || f_exact.value.sign() <= 0)
    return CaseVerdict::discarded("the prompt has within = 0 or between = 0");
  const Trace<T> trace = run_recursion<T>(c.prompt, c.model);
  using K = typename Ratio<T>::Kind;
  int judged = 0;
  for (std::size_t t = 0; t + 1 < trace.entries.size(); ++t) {
    const auto& f0 = trace.entries[t].metrics.fisher;
    const auto& f1 = trace.entries[t + 1].metrics.fisher;
    // The claim speaks of 0 < within and 0 < between: a finite, positive ratio.
    if (f0.kind != K::finite || sign_of(f0.value) != Sign::positive) continue;
    ++judged;
    if (f1.kind == K::pos_inf) continue;
    if constexpr (ScalarTraits<T>::rigorous && !ScalarTraits<T>::exact) {
      // Intervals: certified increase, certified failure, or undecided (discarded).
      if (f1.kind == K::finite && certainly_greater(f1.value, f0.value)) continue;
      if (f1.kind != K::finite || !certainly_greater_or_equal(f1.value, f0.value))
        return CaseVerdict::discarded("undecided at this precision");
    }
    if (f1.kind != K::finite || sign_of(T(f1.value - f0.value)) != Sign::positive)
      return CaseVerdict::failed("layer " + std::to_string(t + 1) + ": Fisher ratio " +
                                 ScalarTraits<T>::to_string(f0.value) + " -> " +
                                 (f1.kind == K::finite ? ScalarTraits<T>::to_string(f1.value) : "undecided") +
                                 ", not an increase");
  }
  if (judged == 0) return CaseVerdict::discarded("no layer with 0 < within and 0 < between");
  return CaseVerdict::held();
}

// ---- enclosure containment -------------------------------------------------

CaseVerdict enclosure_check(const FuzzCase& c, long bits) {
  using Tr = ScalarTraits<ArbBall>;
  WorkingPrecision scope(bits);
  const Trace<Rational> exact = run_recursion<Rational>(c.prompt, c.model);
  const Trace<ArbBall> ball = run_recursion<ArbBall>(c.prompt, c.model);
  for (std::size_t t = 0; t < exact.entries.size(); ++t) {
    const auto& q = exact.entries[t];
    const auto& b = ball.entries[t];
    for (std::size_t j = 0; j < q.state.Z.rows(); ++j)
      for (std::size_t k = 0; k < q.state.Z.cols(); ++k)
        if (!Tr::contains(b.state.Z(j, k), q.state.Z(j, k)))
          return CaseVerdict::failed("depth " + std::to_string(t) + ", row " + std::to_string(j) + ", column " +
                                     std::to_string(k) + ": " + interval_entry(b.state.Z(j, k)) +
                                     " does not contain the exact " + iclcert::to_string(q.state.Z(j, k)));
    auto metric = [&](const char* name, const std::optional<Rational>& e, const std::optional<ArbBall>& v) {
      if (e && v && !Tr::contains(*v, *e))
        throw std::logic_error(std::string(name) + " at depth " + std::to_string(t) + ": " + interval_entry(*v) +
                               " does not contain the exact " + iclcert::to_string(*e));
    };
    metric("min_label_margin", q.metrics.min_label_margin, b.metrics.min_label_margin);
    metric("probe_margin", q.metrics.probe_margin, b.metrics.probe_margin);
    metric("probe_alignment", q.metrics.probe_alignment, b.metrics.probe_alignment);
    metric("probe_attention_same_class", q.probe_attention_same_class, b.probe_attention_same_class);
    if (q.metrics.fisher.kind == Ratio<Rational>::Kind::finite &&
        b.metrics.fisher.kind == Ratio<ArbBall>::Kind::finite && !Tr::contains(b.metrics.fisher.value, q.metrics.fisher.value))
      return CaseVerdict::failed("fisher at depth " + std::to_string(t) + ": " + interval_entry(b.metrics.fisher.value) +
                                 " does not contain the exact " + iclcert::to_string(q.metrics.fisher.value));
  }
  return CaseVerdict::held();
}

// ---- metrics invariance ----------------------------------------------------

template <Scalar T>
bool same(const std::optional<T>& a, const std::optional<T>& b) {
  return a.has_value() == b.has_value() && (!a || *a == *b);
}
template <Scalar T>
bool same(const Ratio<T>& a, const Ratio<T>& b) {
  return a.kind == b.kind && (a.kind != Ratio<T>::Kind::finite || a.value == b.value);
}

CaseVerdict metrics_check(const FuzzCase& c) {
  const Trace<Rational> plain = run_recursion<Rational>(c.prompt, c.model);
  const Trace<Rational> moved = run_recursion<Rational>(act(c.g, c.prompt), c.model);
  for (std::size_t t = 0; t < plain.entries.size(); ++t) {
    const auto& a = plain.entries[t];
    const auto& b = moved.entries[t];
    auto fail = [&](const char* what) {
      return CaseVerdict::failed(std::string(what) + " differs at depth " + std::to_string(t) + " under " +
                                 describe_g(c.g));
    };
    if (!same(a.metrics.fisher, b.metrics.fisher)) return fail("fisher");
    if (!same(a.metrics.gap_ratio, b.metrics.gap_ratio)) return fail("gap_ratio");
    if (!same(a.metrics.min_label_margin, b.metrics.min_label_margin)) return fail("min_label_margin");
    if (!same(a.metrics.probe_margin, b.metrics.probe_margin)) return fail("probe_margin");
    if (!same(a.metrics.probe_alignment, b.metrics.probe_alignment)) return fail("probe_alignment");
    if (!same(a.probe_attention_same_class, b.probe_attention_same_class)) return fail("probe_attention_same_class");
    if (!same(a.train_attention_same_class, b.train_attention_same_class)) return fail("train_attention_same_class");
  }
  return CaseVerdict::held();
}

// ---- trace JSON round trip ---------------------------------------------------

bool reads_back(const Json& j, const Rational& v) { return j.is_string() && parse_rational(j.get<std::string>()) == v; }
bool reads_back(const Json& j, double v) {
  if (!j.is_string()) return false;
  const std::string s = j.get<std::string>();
  char* end = nullptr;
  const double back = std::strtod(s.c_str(), &end);
  return *end == '\0' && (back == v || (std::isnan(back) && std::isnan(v))) && std::signbit(back) == std::signbit(v);
}

template <Scalar T>
bool ratio_reads_back(const Json& j, const Ratio<T>& r) {
  using K = typename Ratio<T>::Kind;
  if (r.kind == K::finite) return reads_back(j, r.value);
  if (r.kind == K::pos_inf) return j == "+inf";
  return j.is_null();
}

template <Scalar T>
CaseVerdict roundtrip_check(const FuzzCase& c, const std::string& arith) {
  const Trace<T> trace = run_recursion<T>(c.prompt, c.model);
  const Json back = Json::parse(trace_to_json(trace, arith).dump(1));
  if (back.at("format") != 1 || back.at("arithmetic") != arith) return CaseVerdict::failed("header changed");
  const Json& layers = back.at("layers");
  if (layers.size() != trace.entries.size()) return CaseVerdict::failed("number of layers changed");
  for (std::size_t t = 0; t < layers.size(); ++t) {
    const auto& e = trace.entries[t];
    const Json& l = layers[t];
    if (l.at("t") != t) return CaseVerdict::failed("t changed at entry " + std::to_string(t));
    for (int j = 0; j < e.state.rows(); ++j) {
      for (int k = 0; k < e.state.d; ++k)
        if (!reads_back(l.at("X").at(j).at(k), e.state.Z(j, k)))
          return CaseVerdict::failed("X[" + std::to_string(j) + "][" + std::to_string(k) + "] at t = " +
                                     std::to_string(t) + " does not read back");
      for (int k = 0; k < e.state.C; ++k)
        if (!reads_back(l.at("Y").at(j).at(k), e.state.Z(j, e.state.d + k)))
          return CaseVerdict::failed("Y[" + std::to_string(j) + "][" + std::to_string(k) + "] at t = " +
                                     std::to_string(t) + " does not read back");
    }
    const Json& m = l.at("metrics");
    if (!ratio_reads_back(m.at("fisher"), e.metrics.fisher)) return CaseVerdict::failed("fisher does not read back");
    if (!ratio_reads_back(m.at("gap_ratio"), e.metrics.gap_ratio))
      return CaseVerdict::failed("gap_ratio does not read back");
    auto optional_back = [&](const char* key, const std::optional<T>& v) {
      return v ? (m.contains(key) && reads_back(m.at(key), *v)) : !m.contains(key);
    };
    if (!optional_back("min_label_margin", e.metrics.min_label_margin) ||
        !optional_back("probe_margin", e.metrics.probe_margin) ||
        !optional_back("probe_alignment", e.metrics.probe_alignment) ||
        !optional_back("probe_attention_same_class", e.probe_attention_same_class) ||
        !optional_back("train_attention_same_class", e.train_attention_same_class))
      return CaseVerdict::failed("a metric at t = " + std::to_string(t) + " does not read back");
  }
  return CaseVerdict::held();
}

// ---- E3 -------------------------------------------------------------------

rc::Gen<FuzzCase> e3_cases() {
  return rc::gen::exec([] {
    FuzzCase c;
    c.prompt = *prompt(PromptSpec{});
    const int d = c.prompt.d, C = c.prompt.C, D = d + C;
    DenseLayer<Rational> layer;
    Matrix<Rational> arbitrary(D, D);
    for (auto r = 0; r < D; ++r)
      for (auto k = 0; k < D; ++k) arbitrary(r, k) = *ranged_rational(-2, 2, 16);
    layer.heads.push_back({*perturbed_matrix(d, C), arbitrary});
    c.model.kernel = Kernel::linear;
    c.model.layers.push_back(layer);
    c.g = *group_element(d, C, c.prompt.N, PermutationKind::composed);
    return c;
  });
}

CaseVerdict e3_check_matrix(const Matrix<Rational>& w, int d, int C, const GroupElement& g, const std::string& name) {
  const auto p = project_equivariant(w, d, C);
  if (equivariant_matrix(p.theta, d, C) != p.projection) return CaseVerdict::failed(name + ": M(theta) != P(W)");
  const auto again = project_equivariant(p.projection, d, C);
  if (again.projection != p.projection) return CaseVerdict::failed(name + ": P(P(W)) != P(W)");
  if (project_equivariant(p.residual, d, C).projection != Matrix<Rational>(d + C, d + C, Rational(0)))
    return CaseVerdict::failed(name + ": P(W - P(W)) != 0");
  for (int k = 0; k < 6; ++k) {
    Theta<Rational> e{0, 0, 0, 0, 0, 0};
    e[k] = 1;
    if (frobenius_inner(p.residual, equivariant_matrix(e, d, C)) != 0)
      return CaseVerdict::failed(name + ": the residual is not orthogonal to basis matrix " + std::to_string(k + 1));
  }
  if (act_on_weights(g, p.projection, d) != p.projection)
    return CaseVerdict::failed(name + ": P(W) does not commute with " + describe_g(g));
  if (frobenius_squared(w) != frobenius_squared(p.projection) + frobenius_squared(p.residual))
    return CaseVerdict::failed(name + ": |W|^2 != |P(W)|^2 + |W - P(W)|^2");
  return CaseVerdict::held();
}

CaseVerdict e3_check(const FuzzCase& c) {
  for (const auto& layer : c.model.layers)
    if (const auto* dense = std::get_if<DenseLayer<Rational>>(&layer))
      for (const auto& h : dense->heads) {
        auto v = e3_check_matrix(h.score, c.prompt.d, c.prompt.C, c.g, "score matrix");
        if (v.kind != CaseVerdict::Kind::held) return v;
        v = e3_check_matrix(h.value, c.prompt.d, c.prompt.C, c.g, "value matrix");
        if (v.kind != CaseVerdict::Kind::held) return v;
      }
  return CaseVerdict::held();
}

PropertyInfo e1_property(PermutationKind kind, const std::string& id, const std::string& sentence) {
  return {id,
          sentence,
          {"rational", "double", "interval:P"},
          "rational",
          [kind](const std::string& arith) { return e1_cases(kind, arith); },
          [](const FuzzCase& c, const std::string& arith) {
            if (arith == "double") return e1_check_double(c);
            if (const long bits = arith_bits(arith, "interval:")) return e1_check_interval(c, bits);
            const BasicModel<Rational> m = c.model;
            return e1_check_exact(c, model_layers(m));
          }};
}

std::vector<PropertyInfo> build_catalogue() {
  std::vector<PropertyInfo> out;
  out.push_back(e1_property(PermutationKind::feature, "E1-feature", "every layer commutes with permutations of the features"));
  out.push_back(e1_property(PermutationKind::label, "E1-label", "every layer commutes with permutations of the labels"));
  out.push_back(e1_property(PermutationKind::token, "E1-token",
                            "every layer commutes with permutations of the training tokens, and the probe's output is unchanged"));
  out.push_back(e1_property(PermutationKind::composed, "E1-composed",
                            "every layer commutes with joint permutations of features, labels and tokens"));
  out.push_back({"E2",
                 "the full equivariant layer with reduced parameters equals the reduced recursion",
                 {"rational", "interval:P"},
                 "rational",
                 [](const std::string& arith) { return e2_cases(arith != "rational"); },
                 [](const FuzzCase& c, const std::string& arith) {
                   if (const long bits = arith_bits(arith, "interval:")) return e2_check_interval(c, bits);
                   return e2_check(c);
                 }});
  out.push_back({"A1",
                 "with beta = 0 < gamma, alpha > 0, alpha' >= 0 and balanced classes every layer raises the Fisher ratio",
                 {"interval:P", "mpfr:P"},
                 "interval:256",
                 [](const std::string&) { return a1_cases(); },
                 [](const FuzzCase& c, const std::string& arith) {
                   if (const long bits = arith_bits(arith, "interval:")) {
                     WorkingPrecision scope(bits);
                     return a1_check<ArbBall>(c);
                   }
                   WorkingPrecision scope(arith_bits(arith, "mpfr:"));
                   return a1_check<MpfrReal>(c);
                 }});
  out.push_back({"enclosure",
                 "the interval enclosure of every state and metric contains the exact rational value (linear kernel)",
                 {"interval:P"},
                 "interval:128",
                 [](const std::string&) { return fuzz_cases(PromptSpec{}, linear_models(), PermutationKind::composed); },
                 [](const FuzzCase& c, const std::string& arith) {
                   return enclosure_check(c, arith_bits(arith, "interval:"));
                 }});
  out.push_back({"metrics-invariance",
                 "the metrics at every depth are invariant under permutations of tokens, features and labels",
                 {"rational"},
                 "rational",
                 [](const std::string&) { return fuzz_cases(PromptSpec{}, linear_models(), PermutationKind::composed); },
                 [](const FuzzCase& c, const std::string&) { return metrics_check(c); }});
  out.push_back({"trace-roundtrip",
                 "a trace written as JSON reads back to the same numbers",
                 {"rational", "double"},
                 "rational",
                 [](const std::string& arith) {
                   return fuzz_cases(PromptSpec{}, arith == "double" ? any_kernel_models() : linear_models(),
                                PermutationKind::composed);
                 },
                 [](const FuzzCase& c, const std::string& arith) {
                   return arith == "double" ? roundtrip_check<double>(c, arith) : roundtrip_check<Rational>(c, arith);
                 }});
  out.push_back({"E3",
                 "projecting onto span{M(theta)} fixes the span, is idempotent and leaves an orthogonal residual",
                 {"rational"},
                 "rational",
                 [](const std::string&) { return e3_cases(); },
                 [](const FuzzCase& c, const std::string&) { return e3_check(c); }});
  return out;
}

}  // namespace

rc::Gen<FuzzCase> e1_cases(PermutationKind kind, const std::string& arith) {
  return fuzz_cases(PromptSpec{}, arith == "rational" ? linear_models() : any_kernel_models(), kind);
}

CaseVerdict e1_check_exact(const FuzzCase& c, const LayerFunction<Rational>& layer) {
  const State<Rational> s = initial_state<Rational>(c.prompt, c.model.probe_label_init);
  if (auto v = e1_exact<Rational>(layer, c.model.layers.size(), s, c.g))
    return CaseVerdict::failed(v->describe() + "; " + describe_g(c.g));
  return CaseVerdict::held();
}

const std::vector<PropertyInfo>& catalogue() {
  static const std::vector<PropertyInfo> all = build_catalogue();
  return all;
}

const PropertyInfo& find_property(const std::string& id) {
  std::string known;
  for (const auto& p : catalogue()) {
    if (p.id == id) return p;
    known += (known.empty() ? "" : ", ") + p.id;
  }
  throw std::invalid_argument("--property " + id + ": unknown property; known: " + known +
                              ", equivariance (see iclcert fuzz --list)");
}

void require_arith(const PropertyInfo& p, const std::string& arith) {
  std::string allowed;
  for (const auto& a : p.ariths) {
    const auto colon = a.find(':');
    if (colon != std::string::npos && arith.rfind(a.substr(0, colon + 1), 0) == 0) {
      arith_bits(arith, a.substr(0, colon + 1).c_str());
      return;
    }
    if (a == arith) return;
    allowed += (allowed.empty() ? "" : ", ") + a;
  }
  throw std::invalid_argument("--arith " + arith + ": property " + p.id + " runs in " + allowed);
}

FuzzOutcome run_property(const PropertyInfo& p, const std::string& arith, const FuzzParams& params) {
  require_arith(p, arith);
  const rc::Gen<FuzzCase> gen = p.generate(arith);
  return run_cases(p.id, gen, [&](const FuzzCase& c) { return p.check(c, arith); }, params);
}

}  // namespace iclcert::properties

#include "properties/generators.hpp"

#include "numerics/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace iclcert::properties {

rc::Gen<long> integer_toward(long lo, long hi, long target) {
  if (hi < lo || target < lo || target > hi) throw std::invalid_argument("integer_toward: bad range");
  return rc::Gen<long>([=](const rc::Random& random, int) {
    const auto width = static_cast<rc::Random::Number>(hi - lo) + 1;
    const long value = lo + static_cast<long>(rc::Random(random).next() % width);
    return rc::shrinkable::shrinkRecur(value, [=](long x) { return rc::shrink::towards<long>(x, target); });
  });
}

namespace {

Rational simplest_in(const Rational& lo, const Rational& hi) {
  if (lo <= 0 && 0 <= hi) return 0;
  return lo > 0 ? lo : hi;
}

// The largest a with a / q <= width (capped so that it fits a long).
long steps_within(const Rational& width, long q) {
  const Rational steps = width * q;
  if (steps >= Rational(1L << 60)) return 1L << 60;
  return static_cast<long>(boost::multiprecision::numerator(steps) / boost::multiprecision::denominator(steps));
}

// target +- a / q toward either end when target is interior: the denominator q
// shrinks toward 1 and then the offset a toward 0, so a failing value shrinks to
// the simplest fraction of small magnitude that still fails (often an integer).
rc::Gen<Rational> ranged_from(const Rational& lo, const Rational& hi, rc::Gen<long> denominator) {
  const Rational target = simplest_in(lo, hi);
  return rc::gen::exec([=] {
    const long q = *denominator;
    const bool up = target == lo ? true : target == hi ? false : *rc::gen::arbitrary<bool>();
    const Rational width = up ? Rational(hi - target) : Rational(target - lo);
    const long a = *integer_toward(0, steps_within(width, q), 0);
    return Rational(up ? target + Rational(a, q) : target - Rational(a, q));
  });
}

Rational pow10(int e) {
  Rational r = 1;
  for (int k = 0; k < std::abs(e); ++k) r *= 10;
  return e < 0 ? Rational(1 / r) : r;
}

}  // namespace

rc::Gen<Rational> ranged_rational(const Rational& lo, const Rational& hi, long max_den) {
  if (hi < lo) throw std::invalid_argument("ranged_rational: empty range");
  return ranged_from(lo, hi, integer_toward(1, max_den, 1));
}

rc::Gen<double> ranged_dyadic(double lo, double hi) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) throw std::invalid_argument("ranged_dyadic: bad range");
  const auto power_of_two = rc::gen::map(integer_toward(0, 30, 0), [](long k) { return 1L << k; });
  return rc::gen::map(ranged_from(rational_from_double(lo), rational_from_double(hi), power_of_two),
                      [=](const Rational& q) { return std::clamp(nearest_double(q), lo, hi); });
}

rc::Gen<Permutation> permutation(int n) {
  return rc::gen::exec([=] {
    Permutation rest = identity_permutation(n), out;
    for (int k = 0; k < n; ++k) {
      const long pick = *integer_toward(0, static_cast<long>(rest.size()) - 1, 0);
      out.push_back(rest[pick]);
      rest.erase(rest.begin() + pick);
    }
    return out;
  });
}

rc::Gen<GroupElement> group_element(int d, int C, int N, PermutationKind kind) {
  return rc::gen::exec([=] {
    GroupElement g = GroupElement::identity(d, C, N);
    const bool all = kind == PermutationKind::composed;
    if (all || kind == PermutationKind::feature) g.features = *permutation(d);
    if (all || kind == PermutationKind::label) g.labels = *permutation(C);
    if (all || kind == PermutationKind::token) g.tokens = *permutation(N);
    return g;
  });
}

const char* to_string(PromptShape shape) {
  switch (shape) {
    case PromptShape::generic: return "generic";
    case PromptShape::near_boundary: return "near_boundary";
    case PromptShape::duplicates: return "duplicates";
    case PromptShape::single_point_class: return "single_point_class";
    case PromptShape::collinear: return "collinear";
  }
  return "?";
}

namespace {

std::vector<Rational> point(int d, const Rational& scale) {
  std::vector<Rational> x(d);
  for (int k = 0; k < d; ++k) x[k] = *ranged_rational(-4, 4, 16) * scale;
  return x;
}

// Moves x along w_top - w_second so that their score gap becomes +-1e-12 (a
// distance of at most 1e-12 / |w_top - w_second| <= 1e-12 from the boundary).
void onto_boundary(const Matrix<Rational>& W, std::vector<Rational>& x, const Rational& gap) {
  const int C = static_cast<int>(W.rows()), d = static_cast<int>(x.size());
  std::vector<Rational> s(C, Rational(0));
  for (int c = 0; c < C; ++c)
    for (int k = 0; k < d; ++k) s[c] += W(c, k) * x[k];
  int top = 0;
  for (int c = 1; c < C; ++c)
    if (s[c] > s[top]) top = c;
  int second = top == 0 ? 1 : 0;
  for (int c = 0; c < C; ++c)
    if (c != top && s[c] > s[second]) second = c;
  Rational norm2 = 0;
  for (int k = 0; k < d; ++k) norm2 += (W(top, k) - W(second, k)) * (W(top, k) - W(second, k));
  if (norm2 == 0) return;
  const Rational shift = (s[top] - s[second] - gap) / norm2;
  for (int k = 0; k < d; ++k) x[k] -= shift * (W(top, k) - W(second, k));
}

Prompt fill_prompt(int d, int C, int N, bool balanced) {
  Prompt p;
  p.d = d;
  p.C = C;
  p.N = N;
  p.X = Matrix<Rational>(N, d);
  const PromptShape shape = *rc::gen::element(PromptShape::generic, PromptShape::near_boundary,
                                              PromptShape::duplicates, PromptShape::single_point_class,
                                              PromptShape::collinear);
  const Rational scale = pow10(static_cast<int>(*integer_toward(-8, 8, 0)));
  std::vector<std::vector<Rational>> rows(N);
  if (shape == PromptShape::collinear) {
    const auto v = point(d, scale), b = point(d, scale);
    for (auto& r : rows) {
      const Rational a = *ranged_rational(-4, 4, 16);
      r.resize(d);
      for (int k = 0; k < d; ++k) r[k] = a * v[k] + b[k];
    }
  } else {
    for (auto& r : rows) r = point(d, scale);
  }
  if (shape == PromptShape::duplicates && N >= 2) {
    const int copies = static_cast<int>(*integer_toward(1, N - 1, 1));
    for (int c = 0; c < copies; ++c) rows[*integer_toward(1, N - 1, 1)] = rows[*integer_toward(0, N - 1, 0)];
  }
  p.probe = point(d, scale);
  p.labels.assign(N, 0);
  if (balanced) {
    for (int i = 0; i < N; ++i) p.labels[i] = i % C;
  } else if (shape == PromptShape::near_boundary) {
    Matrix<Rational> W(C, d);
    for (int c = 0; c < C; ++c)
      for (int k = 0; k < d; ++k) W(c, k) = *integer_toward(-3, 3, 0) + Rational(c == k % C ? 1 : 0);
    const Rational gap = Rational(*rc::gen::element(1, -1)) * pow10(-12);
    for (auto& r : rows) onto_boundary(W, r, gap);
    onto_boundary(W, p.probe, gap);
    for (int i = 0; i < N; ++i) p.labels[i] = classify(W, rows[i]).label;
    p.probe_label = classify(W, p.probe).label;
  } else if (shape == PromptShape::single_point_class) {
    for (int i = 1; i < N; ++i) p.labels[i] = static_cast<int>(*integer_toward(1, C - 1, 1));
  } else {
    for (int i = 0; i < N; ++i) p.labels[i] = static_cast<int>(*integer_toward(0, C - 1, 0));
  }
  if (!p.probe_label && *rc::gen::element(true, false)) p.probe_label = static_cast<int>(*integer_toward(0, C - 1, 0));
  for (int i = 0; i < N; ++i)
    for (int k = 0; k < d; ++k) p.X(i, k) = rows[i][k];
  return p;
}

}  // namespace

rc::Gen<Prompt> prompt_of_size(int d, int C, int N, bool balanced) {
  return rc::gen::exec([=] { return fill_prompt(d, C, N, balanced); });
}

rc::Gen<Prompt> prompt(const PromptSpec& spec) {
  return rc::gen::exec([=] {
    const int d = static_cast<int>(*integer_toward(spec.min_d, spec.max_d, spec.min_d));
    const int C = static_cast<int>(*integer_toward(spec.min_C, spec.max_C, spec.min_C));
    int N;
    if (spec.balanced) {
      const long lo = std::max(1, spec.min_N / C), hi = std::max(1, spec.max_N / C);
      const int per_class = static_cast<int>(*integer_toward(lo, std::max(lo, hi), lo));
      N = per_class * C;
    } else {
      N = static_cast<int>(*integer_toward(spec.min_N, spec.max_N, spec.min_N));
    }
    return fill_prompt(d, C, N, spec.balanced);
  });
}

namespace {

Rational coefficient() { return *ranged_rational(-2, 2, 8); }

ReducedCoefficients<Rational> reduced_coefficients() {
  return {coefficient(), coefficient(), coefficient(), coefficient()};
}

Theta<Rational> theta() {
  Theta<Rational> t;
  for (auto& v : t) v = coefficient();
  return t;
}

}  // namespace

rc::Gen<ReducedLayer<Rational>> reduced_layer(bool probe_overrides) {
  return rc::gen::exec([=] {
    ReducedLayer<Rational> l{reduced_coefficients(), std::nullopt};
    if (probe_overrides && *rc::gen::element(false, true)) l.probe = reduced_coefficients();
    return l;
  });
}

rc::Gen<FullLayer<Rational>> full_layer(int max_heads) {
  return rc::gen::exec([=] {
    FullLayer<Rational> l;
    const int heads = static_cast<int>(*integer_toward(1, max_heads, 1));
    for (int h = 0; h < heads; ++h) l.heads.push_back({theta(), theta()});
    return l;
  });
}

rc::Gen<DenseLayer<Rational>> equivariant_dense_layer(int d, int C, int max_heads) {
  return rc::gen::exec([=] {
    DenseLayer<Rational> l;
    const int heads = static_cast<int>(*integer_toward(1, max_heads, 1));
    for (int h = 0; h < heads; ++h)
      l.heads.push_back({equivariant_matrix(theta(), d, C), equivariant_matrix(theta(), d, C)});
    return l;
  });
}

rc::Gen<Matrix<Rational>> perturbed_matrix(int d, int C) {
  return rc::gen::exec([=] {
    Matrix<Rational> m = equivariant_matrix(theta(), d, C);
    const int D = d + C;
    const long r = *integer_toward(0, D - 1, 0), c = *integer_toward(0, D - 1, 0);
    const bool fixed = *rc::gen::element(true, false);
    const Rational delta = fixed ? Rational(*rc::gen::element(1, -1), 1000) : *ranged_rational(-1, 1, 1000);
    m(r, c) += delta;
    return m;
  });
}

rc::Gen<Model> model(const ModelSpec& spec, int d, int C) {
  return rc::gen::exec([=] {
    Model m;
    switch (spec.kernels) {
      case ModelSpec::Kernels::linear: m.kernel = Kernel::linear; break;
      case ModelSpec::Kernels::softmax: m.kernel = Kernel::softmax; break;
      case ModelSpec::Kernels::both: m.kernel = *rc::gen::element(Kernel::linear, Kernel::softmax); break;
    }
    if (spec.vary_probe_options) {
      m.probe_label_init = *rc::gen::element(ProbeLabelInit::zero, ProbeLabelInit::uniform);
      m.probe_is_key = *rc::gen::element(false, true);
    }
    std::vector<int> kinds;
    if (spec.reduced) kinds.push_back(0);
    if (spec.full) kinds.push_back(1);
    if (spec.dense_equivariant) kinds.push_back(2);
    const int layers = static_cast<int>(*integer_toward(1, spec.max_layers, 1));
    for (int l = 0; l < layers; ++l) {
      switch (*rc::gen::elementOf(kinds)) {
        case 0: m.layers.push_back(*reduced_layer(spec.probe_overrides)); break;
        case 1: m.layers.push_back(*full_layer(spec.max_heads)); break;
        default: m.layers.push_back(*equivariant_dense_layer(d, C, spec.max_heads)); break;
      }
    }
    return m;
  });
}

rc::Gen<Model> a1_model(int max_layers) {
  return rc::gen::exec([=] {
    Model m;
    m.kernel = Kernel::softmax;
    const int layers = static_cast<int>(*integer_toward(1, max_layers, 1));
    for (int l = 0; l < layers; ++l) {
      ReducedCoefficients<Rational> c{0, *ranged_rational(Rational(1, 8), 4, 8),
                                      *ranged_rational(Rational(1, 16), 1, 16), *ranged_rational(0, 1, 16)};
      m.layers.push_back(ReducedLayer<Rational>{c, std::nullopt});
    }
    return m;
  });
}

}  // namespace iclcert::properties

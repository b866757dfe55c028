#include "proofs/symbolic_layer.hpp"

#include "proofs/smt_symbol.hpp"

#include <stdexcept>
#include <string>

namespace iclcert::proofs {
namespace {

RatFn zero(z3::context& ctx) { return RatFn::constant(ctx, 0); }

RatFn dot(const SymbolicState& s, int a, int b, int from, int count) {
  RatFn sum = zero(s.Z.front().ctx());
  for (int k = from; k < from + count; ++k) sum = sum + s.at(a, k) * s.at(b, k);
  return sum;
}

// A polynomial term that normalises to a non-negative integer numeral, or -1.
int integer_value(const RatFn& f) {
  z3::expr v = (f.num / f.den).simplify();
  int64_t k = -1;
  if (!v.is_numeral() || !v.is_numeral_i64(k) || k < 0) return -1;
  return static_cast<int>(k);
}

RatFn power(const z3::expr& E, int k) {
  RatFn r = RatFn::constant(E.ctx(), 1);
  for (int i = 0; i < k; ++i) r = r * RatFn::of(E);
  return r;
}

// Weight of key i for query row j: exp(s_ji) in the chosen form (softmax forms are
// normalised by the caller), s_ji / n_keys for the linear kernel, or the given A_ji.
RatFn weight(const SymbolicState& s, const SymbolicCoefficients& c, const ExpForm& form, int j, int i, int keys) {
  z3::context& ctx = s.Z.front().ctx();
  switch (form.kind) {
    case ExpForm::Kind::linear: {
      const RatFn score = c.beta * dot(s, j, i, 0, s.d) + c.gamma * dot(s, j, i, s.d, s.C);
      return score / RatFn::constant(ctx, keys);
    }
    case ExpForm::Kind::label_power: {
      if (!normalise(c.beta.num).is_numeral() || integer_value(c.beta) != 0)
        throw std::invalid_argument("the E = exp(gamma) form needs beta = 0");
      const int k = integer_value(dot(s, j, i, s.d, s.C));
      if (k < 0)
        throw std::invalid_argument("the E = exp(gamma) form needs integer label inner products (one-hot labels)");
      return power(*form.E, k);
    }
    case ExpForm::Kind::uninterpreted: {
      const RatFn score = c.beta * dot(s, j, i, 0, s.d) + c.gamma * dot(s, j, i, s.d, s.C);
      return RatFn::of((*form.f)(score.num / score.den));
    }
    case ExpForm::Kind::given: {
      const std::size_t k = static_cast<std::size_t>(j * keys + i);
      if (k >= form.weights.size()) throw std::invalid_argument("ExpForm::given: too few weights");
      return RatFn::of(form.weights[k]);
    }
  }
  throw std::logic_error("unknown ExpForm");
}

}  // namespace

SymbolicState symbolic_initial_state(z3::context& ctx, int d, int C, const std::vector<int>& labels) {
  const int N = static_cast<int>(labels.size());
  SymbolicState s{N, d, C, std::vector<RatFn>(static_cast<std::size_t>((N + 1) * (d + C)), zero(ctx))};
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < d; ++k)
      s.at(i, k) = RatFn::of(real_symbol(ctx, "x_" + std::to_string(i) + "_" + std::to_string(k)));
    s.at(i, d + labels[i]) = RatFn::constant(ctx, 1);
  }
  for (int k = 0; k < d; ++k) s.at(N, k) = RatFn::of(real_symbol(ctx, "xq_" + std::to_string(k)));
  return s;
}

SymbolicState symbolic_general_state(z3::context& ctx, int N, int d, int C) {
  SymbolicState s{N, d, C, std::vector<RatFn>(static_cast<std::size_t>((N + 1) * (d + C)), zero(ctx))};
  for (int j = 0; j <= N; ++j)
    for (int k = 0; k < d + C; ++k)
      s.at(j, k) = RatFn::of(real_symbol(ctx, "z_" + std::to_string(j) + "_" + std::to_string(k)));
  return s;
}

SymbolicState apply_symbolic_layer(const SymbolicState& s, const SymbolicCoefficients& c, const ExpForm& form,
                                   bool probe_is_key) {
  z3::context& ctx = s.Z.front().ctx();
  const int keys = probe_is_key ? s.N + 1 : s.N, D = s.d + s.C;
  SymbolicState next = s;
  for (int j = 0; j <= s.N; ++j) {
    std::vector<RatFn> agg(static_cast<std::size_t>(D), zero(ctx));
    RatFn total = zero(ctx);
    for (int i = 0; i < keys; ++i) {
      const RatFn w = weight(s, c, form, j, i, keys);
      total = total + w;
      for (int k = 0; k < D; ++k) agg[k] = agg[k] + w * s.at(i, k);
    }
    for (int k = 0; k < D; ++k) {
      const bool normalised = form.kind == ExpForm::Kind::linear || form.kind == ExpForm::Kind::given;
      const RatFn a = normalised ? agg[k] : agg[k] / total;
      next.at(j, k) = s.at(j, k) + (k < s.d ? c.alpha : c.alpha_label) * a;
    }
  }
  return next;
}

SymbolicScatter symbolic_scatter(const SymbolicState& s, const std::vector<int>& labels) {
  z3::context& ctx = s.Z.front().ctx();
  std::vector<int> n(s.C, 0);
  for (int c : labels) ++n[c];
  SymbolicScatter out{std::vector<RatFn>(static_cast<std::size_t>(s.C * s.d), zero(ctx)),
                      std::vector<RatFn>(static_cast<std::size_t>(s.d), zero(ctx)), zero(ctx), zero(ctx)};
  for (int i = 0; i < s.N; ++i)
    for (int k = 0; k < s.d; ++k) {
      out.class_means[labels[i] * s.d + k] = out.class_means[labels[i] * s.d + k] + s.at(i, k);
      out.mean[k] = out.mean[k] + s.at(i, k);
    }
  for (int k = 0; k < s.d; ++k) out.mean[k] = out.mean[k] / RatFn::constant(ctx, s.N);
  for (int c = 0; c < s.C; ++c)
    if (n[c] > 0)
      for (int k = 0; k < s.d; ++k) out.class_means[c * s.d + k] = out.class_means[c * s.d + k] / RatFn::constant(ctx, n[c]);
  for (int i = 0; i < s.N; ++i)
    for (int k = 0; k < s.d; ++k) {
      const RatFn dev = s.at(i, k) - out.class_means[labels[i] * s.d + k];
      out.within = out.within + dev * dev;
    }
  for (int c = 0; c < s.C; ++c)
    if (n[c] > 0)
      for (int k = 0; k < s.d; ++k) {
        const RatFn dev = out.class_means[c * s.d + k] - out.mean[k];
        out.between = out.between + RatFn::constant(ctx, n[c]) * dev * dev;
      }
  return out;
}

std::vector<RatFn> class_mean_update(const std::vector<RatFn>& n, const std::vector<RatFn>& mu, const RatFn& alpha,
                                     const RatFn& E) {
  z3::context& ctx = alpha.ctx();
  const std::size_t C = n.size();
  std::vector<RatFn> out;
  for (std::size_t c = 0; c < C; ++c) {
    RatFn num = zero(ctx), den = zero(ctx);
    for (std::size_t o = 0; o < C; ++o) {
      const RatFn w = o == c ? n[o] * E : n[o];
      num = num + w * mu[o];
      den = den + w;
    }
    out.push_back(mu[c] + alpha * (num / den));
  }
  return out;
}

}  // namespace iclcert::proofs

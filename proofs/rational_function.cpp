#include "proofs/rational_function.hpp"

#include <stdexcept>

namespace iclcert::proofs {
namespace {

bool is_value(const z3::expr& e, int v) {
  int i = 0;
  return e.is_numeral() && e.is_numeral_i(i) && i == v;
}

// Products and sums that skip the units, so terms stay as small as the math.
z3::expr mul(const z3::expr& a, const z3::expr& b) {
  if (is_value(a, 1)) return b;
  if (is_value(b, 1)) return a;
  return a * b;
}

}  // namespace

RatFn RatFn::of(const z3::expr& e) { return {e, e.ctx().real_val(1)}; }

RatFn RatFn::constant(z3::context& ctx, const Rational& q) { return of(real_term(ctx, q)); }

RatFn RatFn::constant(z3::context& ctx, long v) { return of(ctx.real_val(static_cast<int64_t>(v))); }

z3::expr real_term(z3::context& ctx, const Rational& q) { return ctx.real_val(to_string(q).c_str()); }

RatFn operator+(const RatFn& a, const RatFn& b) {
  if (z3::eq(a.den, b.den)) return {a.num + b.num, a.den};
  return {mul(a.num, b.den) + mul(b.num, a.den), mul(a.den, b.den)};
}

RatFn operator-(const RatFn& a, const RatFn& b) {
  if (z3::eq(a.den, b.den)) return {a.num - b.num, a.den};
  return {mul(a.num, b.den) - mul(b.num, a.den), mul(a.den, b.den)};
}

RatFn operator*(const RatFn& a, const RatFn& b) { return {mul(a.num, b.num), mul(a.den, b.den)}; }

RatFn operator/(const RatFn& a, const RatFn& b) { return {mul(a.num, b.den), mul(a.den, b.num)}; }

RatFn operator-(const RatFn& a) { return {-a.num, a.den}; }

z3::expr cleared_difference(const RatFn& a, const RatFn& b) { return mul(a.num, b.den) - mul(b.num, a.den); }

z3::expr normalise(const z3::expr& e) {
  z3::params p(e.ctx());
  p.set("som", true);
  p.set("som_blowup", 4294967295u);
  return e.simplify(p);
}

Rational numeral_value(const z3::expr& e) {
  std::string text;
  if (!e.is_numeral(text)) throw std::invalid_argument("not a rational numeral: " + e.to_string());
  return parse_rational(text);
}

Rational evaluate(const RatFn& f, const std::vector<z3::expr>& symbols, const std::vector<Rational>& values) {
  if (symbols.size() != values.size()) throw std::invalid_argument("evaluate: symbols and values differ in number");
  z3::context& ctx = f.ctx();
  z3::expr_vector from(ctx), to(ctx);
  for (std::size_t k = 0; k < symbols.size(); ++k) {
    from.push_back(symbols[k]);
    to.push_back(real_term(ctx, values[k]));
  }
  auto value = [&](z3::expr e) { return numeral_value(e.substitute(from, to).simplify()); };
  const Rational den = value(f.den);
  if (den == 0) throw std::invalid_argument("evaluate: denominator is 0 at this point");
  return value(f.num) / den;
}

}  // namespace iclcert::proofs

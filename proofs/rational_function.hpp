// RatFn: a rational function num / den of Z3 real terms, kept as a pair so that
// identities can be proved by clearing denominators and normalising a polynomial
// (TOOLCHAIN.md: Z3's nlsat does not finish on the uncleared forms).
//
// Nothing here decides anything: the arithmetic only builds terms. Equal
// denominators are recognised by Z3's hash-consing (identical ASTs), which keeps
// the common denominators of one class's rows from multiplying up.
#pragma once

#include "numerics/rational.hpp"

#include <z3++.h>

#include <string>
#include <vector>

namespace iclcert::proofs {

struct RatFn {
  z3::expr num, den;

  static RatFn of(const z3::expr& e);             // e / 1
  static RatFn constant(z3::context& ctx, const Rational& q);
  static RatFn constant(z3::context& ctx, long v);
  z3::context& ctx() const { return num.ctx(); }
};

RatFn operator+(const RatFn& a, const RatFn& b);
RatFn operator-(const RatFn& a, const RatFn& b);
RatFn operator*(const RatFn& a, const RatFn& b);
RatFn operator/(const RatFn& a, const RatFn& b);
RatFn operator-(const RatFn& a);

// Z3 term of a rational number, exactly ("p/q").
z3::expr real_term(z3::context& ctx, const Rational& q);

// The polynomial a.num * b.den - b.num * a.den, which is identically 0 iff a = b
// as rational functions (where both denominators are non-zero).
z3::expr cleared_difference(const RatFn& a, const RatFn& b);

// Z3's simplifier in sum-of-monomials mode with an unlimited blow-up: the
// normal form of a polynomial, 0 exactly when it is identically 0.
z3::expr normalise(const z3::expr& e);

// Exact value of a numeral term; throws std::invalid_argument when `e` is not a
// rational numeral (an algebraic number, or a term with free symbols).
Rational numeral_value(const z3::expr& e);

// Substitutes numerals for symbols and evaluates num / den exactly.
// Throws std::invalid_argument when a symbol is left or the denominator is 0.
Rational evaluate(const RatFn& f, const std::vector<z3::expr>& symbols, const std::vector<Rational>& values);

}  // namespace iclcert::proofs

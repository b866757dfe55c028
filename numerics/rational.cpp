#include "numerics/rational.hpp"

#include <mpfr.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <new>
#include <stdexcept>

// GMP's default allocation functions (exported by libgmp, not declared in gmp.h):
// install_gmp_allocation() replaces them only when they are still in place.
extern "C" {
void* __gmp_default_allocate(std::size_t);
void* __gmp_default_reallocate(void*, std::size_t, std::size_t);
void __gmp_default_free(void*, std::size_t);
}

namespace iclcert {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Base 10 explicitly: GMP's default base 0 would read "0125" as octal.
boost::multiprecision::mpz_int integer_from_digits(std::string_view digits) {
  boost::multiprecision::mpz_int v;
  if (mpz_set_str(v.backend().data(), std::string(digits).c_str(), 10) != 0)
    throw std::invalid_argument("malformed integer");
  return v;
}

Rational parse_fraction(std::string_view text, std::size_t slash) {
  std::string_view num = text.substr(0, slash);
  std::string_view den = text.substr(slash + 1);
  bool negative = false;
  if (!num.empty() && (num[0] == '-' || num[0] == '+')) {
    negative = num[0] == '-';
    num.remove_prefix(1);
  }
  if (!all_digits(num) || !all_digits(den))
    throw std::invalid_argument("a fraction must be integer/integer");
  boost::multiprecision::mpz_int p = integer_from_digits(num);
  boost::multiprecision::mpz_int q = integer_from_digits(den);
  if (q == 0) throw std::invalid_argument("the denominator is zero");
  Rational r(p, q);
  return negative ? Rational(-r) : r;
}

std::string exponent_range() {
  return "exponent out of range (a decimal exponent is at most " + std::to_string(kMaxDecimalExponent) + " in size)";
}

Rational parse_decimal(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  long exponent = 0;
  if (auto e = text.find_first_of("eE"); e != std::string_view::npos) {
    std::string_view exp = text.substr(e + 1);
    bool exp_negative = false;
    if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) {
      exp_negative = exp[0] == '-';
      exp.remove_prefix(1);
    }
    if (!all_digits(exp)) throw std::invalid_argument("malformed exponent");
    if (exp.size() > 6) throw std::invalid_argument(exponent_range());
    exponent = std::stol(std::string(exp));
    if (exp_negative) exponent = -exponent;
    text = text.substr(0, e);
  }
  std::string_view int_part = text, frac_part;
  if (auto dot = text.find('.'); dot != std::string_view::npos) {
    int_part = text.substr(0, dot);
    frac_part = text.substr(dot + 1);
  }
  if (int_part.empty() && frac_part.empty()) throw std::invalid_argument("no digits");
  if ((!int_part.empty() && !all_digits(int_part)) || (!frac_part.empty() && !all_digits(frac_part)))
    throw std::invalid_argument("not a decimal number or a fraction");
  exponent -= static_cast<long>(frac_part.size());
  if (exponent > kMaxDecimalExponent || exponent < -kMaxDecimalExponent - 1000)
    throw std::invalid_argument(exponent_range());
  boost::multiprecision::mpz_int mantissa =
      integer_from_digits(std::string(int_part.empty() ? "0" : int_part) + std::string(frac_part));
  boost::multiprecision::mpz_int scale = boost::multiprecision::pow(
      boost::multiprecision::mpz_int(10), static_cast<unsigned>(exponent < 0 ? -exponent : exponent));
  Rational r = exponent < 0 ? Rational(mantissa, scale) : Rational(mantissa * scale);
  return negative ? Rational(-r) : r;
}

}  // namespace

Rational parse_rational(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("empty number");
  // Bounds the work of GMP and of every later operation on the value.
  if (text.size() > kMaxNumberChars)
    throw std::invalid_argument("longer than " + std::to_string(kMaxNumberChars) + " characters");
  if (auto slash = text.find('/'); slash != std::string_view::npos) return parse_fraction(text, slash);
  return parse_decimal(text);
}

Rational rational_from_double(double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("not a finite number");
  Rational r;
  mpq_set_d(r.backend().data(), value);  // exact: a double is a dyadic rational
  return r;
}

std::string to_string(const Rational& value) {
  if (denominator(value) == 1) return numerator(value).str();
  return numerator(value).str() + "/" + denominator(value).str();
}

double nearest_double(const Rational& value) {
  mpfr_t x;
  mpfr_init2(x, 53);
  mpfr_set_q(x, value.backend().data(), MPFR_RNDN);
  double d = mpfr_get_d(x, MPFR_RNDN);
  mpfr_clear(x);
  return d;
}

std::string describe_rational(const Rational& value, std::size_t max_chars) {
  // Decide from the sizes first: to_string of a huge value is itself costly.
  if (size_in_bits(value) <= 3 * max_chars) {
    std::string exact = to_string(value);
    if (exact.size() <= max_chars) return exact;
  }
  mpfr_t x;
  mpfr_init2(x, 53);
  mpfr_set_q(x, value.backend().data(), MPFR_RNDN);  // MPFR's exponent range holds any input
  char text[64];
  mpfr_snprintf(text, sizeof text, "%.6Rg", x);
  mpfr_clear(x);
  return std::string("about ") + text;
}

std::size_t size_in_bits(const Rational& value) {
  return mpz_sizeinbase(mpq_numref(value.backend().data()), 2) + mpz_sizeinbase(mpq_denref(value.backend().data()), 2);
}

void require_bounded_size(const std::vector<Rational>& state, std::size_t layer) {
  std::size_t largest = 0;
  for (const Rational& v : state) largest = std::max(largest, size_in_bits(v));
  if (largest > kMaxRationalBits)
    throw std::invalid_argument(
        "--arith rational: after layer " + std::to_string(layer) + " the exact state holds a number of " +
        std::to_string(largest) + " bits, beyond the limit of " + std::to_string(kMaxRationalBits) +
        " (exact numbers grow about threefold per layer); run this depth in --arith interval:BITS or mpfr:BITS");
}

namespace {

void* allocate_or_throw(std::size_t size) {
  void* p = std::malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* reallocate_or_throw(void* block, std::size_t /*old_size*/, std::size_t size) {
  void* p = std::realloc(block, size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void free_block(void* block, std::size_t /*size*/) { std::free(block); }

}  // namespace

void install_gmp_allocation() {
  void* (*allocate)(std::size_t) = nullptr;
  void* (*reallocate)(void*, std::size_t, std::size_t) = nullptr;
  void (*release)(void*, std::size_t) = nullptr;
  mp_get_memory_functions(&allocate, &reallocate, &release);
  // GMP's defaults are malloc, realloc and free too, so blocks allocated before
  // the switch are freed correctly after it. A host's own functions stay.
  if (allocate != __gmp_default_allocate || reallocate != __gmp_default_reallocate || release != __gmp_default_free)
    return;
  mp_set_memory_functions(allocate_or_throw, reallocate_or_throw, free_block);
}

}  // namespace iclcert

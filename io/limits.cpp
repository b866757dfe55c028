#include "io/limits.hpp"

#include "io/input_error.hpp"

#include <cstdlib>

namespace iclcert {
namespace {

struct LimitInfo {
  const char* variable;
  std::uint64_t default_value;
};

LimitInfo info(Limit which) {
  switch (which) {
    case Limit::input_bytes: return {"ICLCERT_MAX_INPUT_BYTES", 256ull << 20};
    case Limit::json_values: return {"ICLCERT_MAX_JSON_VALUES", 1ull << 25};
    case Limit::precision_bits: return {"ICLCERT_MAX_PRECISION_BITS", 65536};
    case Limit::sample_entries: return {"ICLCERT_MAX_SAMPLE_ENTRIES", 100'000'000};
    case Limit::chunk_bytes: return {"ICLCERT_MAX_CHUNK_BYTES", 2ull << 30};
    case Limit::large_exponents: return {"ICLCERT_MAX_LARGE_EXPONENTS", 1'000'000};
  }
  return {"?", 0};
}

}  // namespace

std::uint64_t limit(Limit which) {
  const LimitInfo i = info(which);
  const char* text = std::getenv(i.variable);
  if (text == nullptr || *text == '\0') return i.default_value;
  std::uint64_t v = 0;
  for (const char* c = text; *c; ++c) {
    if (*c < '0' || *c > '9' || v > (UINT64_MAX - 9) / 10)
      throw InputError(std::string("environment variable ") + i.variable, "",
                       "expected a positive whole number below 2^64, got \"" + std::string(text).substr(0, 40) + "\"");
    v = v * 10 + static_cast<std::uint64_t>(*c - '0');
  }
  if (v == 0)
    throw InputError(std::string("environment variable ") + i.variable, "", "expected a positive whole number, got 0");
  return v;
}

std::string limit_variable(Limit which) { return info(which).variable; }

std::string beyond_limit(Limit which, const std::string& unit) {
  const std::uint64_t v = limit(which);
  return "exceeds the limit of " + std::to_string(v) + (unit.empty() ? "" : " " + unit) + " (raise it with " + limit_variable(which) + "=" +
         std::to_string(v * 4) + " if you mean it)";
}

}  // namespace iclcert

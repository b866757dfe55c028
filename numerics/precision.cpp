#include "numerics/precision.hpp"

#include <stdexcept>
#include <string>

namespace iclcert {
namespace {
thread_local long g_working_bits = 256;
}

long working_precision_bits() { return g_working_bits; }

WorkingPrecision::WorkingPrecision(long bits) : previous_(g_working_bits) {
  if (bits < kMinMpfrBits || bits > kMaxMpfrBits)
    throw std::invalid_argument("the working precision must be between " + std::to_string(kMinMpfrBits) +
                                " and " + std::to_string(kMaxMpfrBits) + " bits");
  g_working_bits = bits;
}

WorkingPrecision::~WorkingPrecision() { g_working_bits = previous_; }

}  // namespace iclcert

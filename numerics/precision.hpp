// The working precision, in bits, of every multiprecision type (MpfrReal, ArbBall,
// MpfiInterval): one value per thread, set for a scope with WorkingPrecision.
// New values and the results of arithmetic are made at the precision current when
// they are computed; an enclosure stays an enclosure at any precision, only its
// width depends on it.
#pragma once

namespace iclcert {

inline constexpr long kMinMpfrBits = 16;
inline constexpr long kMaxMpfrBits = 1 << 20;

// The calling thread's working precision (default: 256 bits).
long working_precision_bits();

// Sets the calling thread's working precision for the lifetime of the object and
// restores the previous one after. Throws std::invalid_argument outside
// [kMinMpfrBits, kMaxMpfrBits].
class WorkingPrecision {
 public:
  explicit WorkingPrecision(long bits);
  ~WorkingPrecision();
  WorkingPrecision(const WorkingPrecision&) = delete;
  WorkingPrecision& operator=(const WorkingPrecision&) = delete;

 private:
  long previous_;
};

// The older name, from when only MPFR had a working precision.
using MpfrPrecision = WorkingPrecision;

}  // namespace iclcert

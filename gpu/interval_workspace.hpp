// Where the interval tier keeps one prompt's scratch (issue 28): contiguous on
// the host, interleaved by prompt on the device.
//
// certify_prompt (interval_certify.hpp) runs one prompt per GPU thread, its state,
// keys, values, side arrays and panel scratch (about 190 KB at d 16, C 4, N 64) in
// global memory. Laid out one prompt after the other, the 32 threads of a warp
// reading "their" element x touch 32 places 190 KB apart: 32 memory transactions
// for one instruction. Interleaved, element x of the warp's 32 prompts are
// adjacent, and the same read is one or two transactions: a group of
// kIvInterleave prompts shares one buffer, element x of lane t at x *
// kIvInterleave + t (enclosures and doubles each in their own part, so that an
// Iv's halves and a double are both one aligned access).
//
// The code of the tier is written once against the pointer types below: on the
// host, IvPtr and DPtr are plain pointers (Iv*, double*) and nothing changes; with
// ICLCERT_IV_INTERLEAVE = S (set by gpu/batch_cuda.cu for the device, S = 32, and
// by tests/gpu/certify_interleaved.cpp on the host, which runs that layout on the
// CPU), they are Strided: p[i] is element i of this lane, p + i moves i elements.
// Pointers into the model or into outputs stay plain.
#pragma once

#include <type_traits>

#include "gpu/hd.hpp"
#include "gpu/interval_kernel.hpp"

namespace iclcert::gpu {
inline namespace ICLCERT_IV_ISA_NS {

#ifdef ICLCERT_IV_INTERLEAVE
inline constexpr int kIvInterleave = ICLCERT_IV_INTERLEAVE;
static_assert(kIvInterleave >= 1, "ICLCERT_IV_INTERLEAVE: prompts per interleaved group");

// Element i of one lane of an interleaved array: p[i * kIvInterleave].
template <class T>
struct Strided {
  T* p;
  ICLCERT_HD T& operator[](long i) const { return p[i * kIvInterleave]; }
  ICLCERT_HD T& operator*() const { return *p; }
  ICLCERT_HD Strided operator+(long i) const { return {p + i * kIvInterleave}; }
  ICLCERT_HD Strided operator-(long i) const { return {p - i * kIvInterleave}; }
  template <class U = T>
    requires(!std::is_const_v<U>)
  ICLCERT_HD operator Strided<const U>() const {  // as T* to const T*
    return {p};
  }
};
using IvPtr = Strided<Iv>;
using CIvPtr = Strided<const Iv>;
using DPtr = Strided<double>;
using CDPtr = Strided<const double>;
#else
using IvPtr = Iv*;
using CIvPtr = const Iv*;
using DPtr = double*;
using CDPtr = const double*;
#endif

// One prompt's scratch: `enclosures` elements of Iv, then doubles.
struct IvScratch {
  IvPtr iv;
  DPtr dbl;
};

#ifdef ICLCERT_IV_INTERLEAVE
// Lane `lane` of the group buffer `group` (kIvInterleave * size elements of Iv,
// size = interval_workspace_size): its first `enclosures` Iv of every lane come
// first, interleaved, then the doubles, interleaved.
ICLCERT_HD inline IvScratch interleaved_scratch(Iv* group, int lane, long enclosures) {
  return {IvPtr{group + lane},
          DPtr{reinterpret_cast<double*>(group + enclosures * kIvInterleave) + lane}};
}
#else
// One prompt's own buffer: the enclosures, then the doubles after them.
ICLCERT_HD inline IvScratch contiguous_scratch(Iv* ws, long enclosures) {
  return {ws, reinterpret_cast<double*>(ws + enclosures)};
}
#endif

}  // inline namespace ICLCERT_IV_ISA_NS
}  // namespace iclcert::gpu

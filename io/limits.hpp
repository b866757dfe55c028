// Size limits of accepted input (documented in docs/formats.md). They keep an
// absurd file from exhausting memory before any work starts.
#pragma once

namespace iclcert {

inline constexpr int kMaxFeatures = 1024;           // d
inline constexpr int kMaxClasses = 256;             // C
inline constexpr int kMaxTrainingPoints = 65536;    // N
inline constexpr long kMaxPromptEntries = 10'000'000;  // N * (d + C)
inline constexpr int kMaxLayers = 4096;
inline constexpr int kMaxHeads = 64;
inline constexpr int kMaxBatchPrompts = 1'000'000;

}  // namespace iclcert

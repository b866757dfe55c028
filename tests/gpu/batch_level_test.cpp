// The CPU backend's x86-64 levels (gpu/batch_cpu_level.hpp): the level that runs by
// default is the best the CPU supports, ICLCERT_CPU_LEVEL forces one (and refuses
// one the CPU lacks), every level with FMA gives the values of the CUDA arrangement
// (its emulation, batch_columns.hpp) bit for bit, the x86-64 baseline (unfused)
// stays within a rounding tolerance of them, and no level's object code calls
// libm's fma or a function compiled for another level.
#include "batch_test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

namespace iclcert::gpu::testing {

#ifdef ICLCERT_BATCH_X86_LEVELS
// tests/gpu/exp_level_probe_{v3,v4}.cpp: packs_exp at those levels, n a multiple of 4 packs.
void packed_exp_v3(const float* in, float* out, long n);
void packed_exp_v3(const double* in, double* out, long n);
void packed_exp_v4(const float* in, float* out, long n);
void packed_exp_v4(const double* in, double* out, long n);
#endif

namespace {

constexpr std::uint64_t kSeed = 25;

std::vector<CpuLevel> supported_levels() {
  std::vector<CpuLevel> out;
  for (CpuLevel l : {CpuLevel::base, CpuLevel::v3, CpuLevel::v4})
    if (cpu_level_supported(l)) out.push_back(l);
  return out;
}

// The best level as the CPU reports it, asked here independently of the backend.
std::string expected_best() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "v4";
  if (__builtin_cpu_supports("x86-64-v3")) return "v3";
#endif
  return "base";
}

// Sets ICLCERT_CPU_LEVEL for the scope (unset when `value` is null).
struct LevelEnv {
  explicit LevelEnv(const char* value) {
    if (value) setenv("ICLCERT_CPU_LEVEL", value, 1);
    else unsetenv("ICLCERT_CPU_LEVEL");
  }
  ~LevelEnv() { unsetenv("ICLCERT_CPU_LEVEL"); }
};

TEST(BatchLevel, DefaultIsTheBestTheCpuSupports) {
  LevelEnv env(nullptr);
  std::printf("CPU level: %s\n", float_kernel_level());
  EXPECT_EQ(float_kernel_level(), expected_best());
#ifdef ICLCERT_BATCH_X86_LEVELS
  EXPECT_EQ(cpu_level_name(best_cpu_level()), expected_best());
#else
  EXPECT_EQ(best_cpu_level(), CpuLevel::base);  // one level: the baseline file, at this CPU's -march under native
#endif
  EXPECT_TRUE(cpu_level_supported(CpuLevel::base));
  LevelEnv empty("");
  EXPECT_EQ(float_kernel_level(), expected_best());
}

TEST(BatchLevel, TheEnvironmentForcesALevelAndRefusesOneTheCpuLacks) {
  for (CpuLevel l : supported_levels()) {
    LevelEnv env(cpu_level_name(l));
    EXPECT_EQ(selected_cpu_level(), l);
#ifndef ICLCERT_BATCH_X86_LEVELS
    if (l == CpuLevel::base) continue;  // the one level, named by its -march under native
#endif
    EXPECT_STREQ(float_kernel_level(), cpu_level_name(l));
  }
  {
    LevelEnv env("v5");
    try {
      (void)selected_cpu_level();
      ADD_FAILURE() << "v5 accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "ICLCERT_CPU_LEVEL=v5: expected base, v3 or v4");
    }
  }
  bool refused_one = false;
  for (CpuLevel l : {CpuLevel::v3, CpuLevel::v4}) {
    if (cpu_level_supported(l)) continue;
    LevelEnv env(cpu_level_name(l));
#ifdef ICLCERT_BATCH_X86_LEVELS
    const std::string want = std::string("ICLCERT_CPU_LEVEL=") + cpu_level_name(l) + ": this CPU lacks x86-64-" +
                             cpu_level_name(l) + " (the best it supports is " + expected_best() + ")";
#else
    const std::string want = std::string("ICLCERT_CPU_LEVEL=") + cpu_level_name(l) + ": this build has one level, " +
                             expected_best() + " (ICLCERT_CPU_LEVELS=native, or not x86-64 with g++)";
#endif
    try {
      (void)selected_cpu_level();
      ADD_FAILURE() << cpu_level_name(l) << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(e.what(), want);
    }
    PromptBlock<float> block;
    BlockOutput<float> out;
    EXPECT_THROW(run_block_cpu(ModelView<float>{}, block, Detail::final_only, 1, out), std::invalid_argument);
    refused_one = true;
  }
  if (!refused_one) std::printf("this CPU has every level: the refusal of a missing one is not exercised\n");
}

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Every value of the outputs: predictions (as T), margins, records, states.
template <class T>
std::vector<T> values_of(const BlockOutput<T>& o) {
  std::vector<T> v;
  for (std::int32_t p : o.predictions) v.push_back(static_cast<T>(p));
  v.insert(v.end(), o.probe_margins.begin(), o.probe_margins.end());
  for (const LayerRecord<T>& r : o.records)
    for (T x : {r.fisher, r.gap_ratio, r.min_label_margin, r.probe_margin, r.probe_alignment,
                r.probe_attention_same_class, static_cast<T>(r.prediction)})
      v.push_back(x);
  v.insert(v.end(), o.states.begin(), o.states.end());
  return v;
}

// The x86-64 baseline beside v3 and v4 has no FMA: it rounds products and sums apart.
bool base_is_unfused() {
#if defined(__x86_64__) && defined(ICLCERT_BATCH_X86_LEVELS)
  return true;
#else
  return false;
#endif
}

struct Case {
  std::string name;
  Model model;
  std::vector<Prompt> prompts;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  const std::vector<Prompt> small = sampled_prompts(7, 4, 3, 20, kSeed);
  for (Kernel kernel : {Kernel::softmax, Kernel::linear}) {
    const std::string k = kernel == Kernel::softmax ? " softmax" : " linear";
    out.push_back({"mixed" + k, mixed_model(kernel), small});
    Model key = mixed_model(kernel);
    key.probe_is_key = true;
    key.probe_label_init = ProbeLabelInit::uniform;
    out.push_back({"mixed probe_is_key uniform" + k, key, small});
    out.push_back({"dense" + k, dense_model(kernel, 4, 3), small});
  }
  // The benchmark's shape (d = 16, C = 4, N = 64: 65 columns, the panels' tails).
  Model reduced;
  for (int l = 0; l < 3; ++l)
    reduced.layers.push_back(ReducedLayer<Rational>{coeffs("1/4", "1", "1/2", "1/2"), std::nullopt});
  out.push_back({"reduced d16 C4 N64", reduced, sampled_prompts(6, 16, 4, 64, kSeed + 100)});
  // The same with the probe as a key (65 keys: a tail past the packs of keys of
  // the one-column path, host_probe_column) and with a linear kernel.
  Model reduced_key = reduced;
  reduced_key.probe_is_key = true;
  out.push_back({"reduced d16 C4 N64 probe_is_key", reduced_key, sampled_prompts(6, 16, 4, 64, kSeed + 300)});
  Model reduced_linear = reduced;
  reduced_linear.kernel = Kernel::linear;
  out.push_back({"reduced d16 C4 N64 linear", reduced_linear, sampled_prompts(6, 16, 4, 64, kSeed + 400)});
  // Odd widths: N + 1 = 14 columns, D = 18.
  out.push_back({"dense wide N13", dense_model(Kernel::softmax, 14, 4), sampled_prompts(5, 14, 4, 13, kSeed + 200)});
  return out;
}

template <class T>
void check_levels(const Case& c) {
  const BatchModel<T> bm = make_batch_model<T>(c.model, c.prompts[0].d, c.prompts[0].C);
  const PromptBlock<T> block = block_of<T>(c.prompts);
  const char* type = sizeof(T) == 4 ? " float" : " double";
  for (Detail detail : {Detail::final_only, Detail::per_layer, Detail::with_states}) {
    BlockOutput<T> ref;  // the CUDA kernel's arrangement, fused as on the device
    run_block_columns_emulated(bm.view(), block, detail, 2, ref);
    const std::vector<T> want = values_of(ref);
    for (CpuLevel level : supported_levels()) {
      const std::string what = c.name + type + ", detail " + std::to_string(static_cast<int>(detail)) +
                               ", level " + cpu_level_name(level);
      BlockOutput<T> out;
      run_block_cpu_at(level, bm.view(), block, detail, 2, out);
      const std::vector<T> got = values_of(out);
      ASSERT_EQ(got.size(), want.size()) << what;
      long differ = 0, far = 0;
      // Unfused: a few roundings apart per operation, through a handful of layers.
      const double tol = sizeof(T) == 4 ? 2e-3 : 1e-10;
      for (std::size_t i = 0; i < got.size(); ++i) {
        differ += !same_bits(got[i], want[i]);
        const bool both_nan = std::isnan(got[i]) && std::isnan(want[i]);
        far += !both_nan && !(std::abs(static_cast<double>(got[i]) - want[i]) <= tol * (1 + std::abs(want[i])));
      }
      if (level == CpuLevel::base && base_is_unfused()) {
        EXPECT_EQ(far, 0) << what << ": values beyond the rounding tolerance";
      } else {
        EXPECT_EQ(differ, 0) << what << ": values that differ in some bit";
      }
    }
  }
}

TEST(BatchLevel, EveryLevelWithFmaGivesTheCudaArrangementsBits) {
  std::printf("seed %llu; levels:", static_cast<unsigned long long>(kSeed));
  for (CpuLevel l : supported_levels()) std::printf(" %s", cpu_level_name(l));
  std::printf("\n");
  for (const Case& c : cases()) {
    check_levels<float>(c);
    check_levels<double>(c);
  }
}

// The forced level is the one that runs: the baseline's unfused values differ from
// the default's somewhere (on x86-64), and equal them once forced back.
TEST(BatchLevel, RunBlockCpuRunsTheForcedLevel) {
  if (!base_is_unfused())
    GTEST_SKIP() << "the baseline fuses here (off x86-64, or a build without v3 and v4): its bits are every level's";
  const Case c = cases()[0];
  const BatchModel<float> bm = make_batch_model<float>(c.model, c.prompts[0].d, c.prompts[0].C);
  const PromptBlock<float> block = block_of<float>(c.prompts);
  BlockOutput<float> def, base, at_base;
  {
    LevelEnv env(nullptr);
    run_block_cpu(bm.view(), block, Detail::with_states, 1, def);
  }
  {
    LevelEnv env("base");
    run_block_cpu(bm.view(), block, Detail::with_states, 1, base);
  }
  run_block_cpu_at(CpuLevel::base, bm.view(), block, Detail::with_states, 1, at_base);
  EXPECT_EQ(std::memcmp(base.states.data(), at_base.states.data(), base.states.size() * sizeof(float)), 0);
  if (best_cpu_level() != CpuLevel::base) {
    EXPECT_NE(std::memcmp(base.states.data(), def.states.data(), base.states.size() * sizeof(float)), 0);
  }
}

// The exp's inputs for the comparisons below: the edges (0, -0, the cut, the clamp,
// -inf, NaNs of both signs and with a payload), a grid from 0 to -1000, and random
// values over the clamped range and near 0; padded to a multiple of 64 lanes.
template <class T>
std::vector<T> exp_inputs() {
  using K = ExpConstants<T>;
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  auto nan_with = [](Bits bits) {
    T v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  };
  const Bits sign = Bits(1) << (8 * sizeof(T) - 1);
  std::vector<T> xs = {T(0), -T(0), T(-1e-30), K::kCut, std::nextafter(K::kCut, T(0)), std::nextafter(K::kCut, T(-1)),
                       K::kLo, std::nextafter(K::kLo, T(0)), T(-1) / T(0), quiet_nan<T>()};
  Bits nan_bits;
  const T qn = quiet_nan<T>();
  std::memcpy(&nan_bits, &qn, sizeof qn);
  for (Bits payload : {Bits(0), Bits(1), Bits(0x3ff), Bits(0xfff), Bits(0x1234)}) {
    xs.push_back(nan_with(nan_bits | payload));
    xs.push_back(nan_with((nan_bits | payload) | sign));
  }
  for (int i = 0; i <= 4000; ++i) xs.push_back(static_cast<T>(-0.25 * i));  // 0 down to -1000
  std::mt19937_64 rng(kSeed);
  std::uniform_real_distribution<double> wide(static_cast<double>(K::kLo) - 10, 0.0), near(-2.0, 0.0);
  for (int i = 0; i < 20000; ++i) xs.push_back(static_cast<T>(i % 2 ? wide(rng) : near(rng)));
  while (xs.size() % 64) xs.push_back(T(-3));
  return xs;
}

// The exp's cut (theory/batch_path.md): 0 below kCut, exp above; and the host's
// packed exp gives kernel_exp's bits (the device's function) on every lane, at this
// file's level and at v3 and v4 where the CPU has them.
template <class T>
void check_exp() {
  using K = ExpConstants<T>;
  EXPECT_EQ(kernel_exp<T>(K::kCut - T(0.5)), T(0));
  EXPECT_EQ(kernel_exp<T>(T(-1000)), T(0));
  const T above = kernel_exp<T>(K::kCut + T(0.5));
  EXPECT_NEAR(above / std::exp(static_cast<double>(K::kCut) + 0.5), 1.0, 1e-6);
  const std::vector<T> xs = exp_inputs<T>();
  constexpr int PL = kHostVecBytes / static_cast<int>(sizeof(T));
  long differ = 0;
  for (std::size_t b = 0; b < xs.size(); b += PL) {
    HostVec<T, kHostVecBytes> v[1];
    std::memcpy(&v[0], &xs[b], sizeof v[0]);
    packs_exp<T, kHostVecBytes, 1>(v);
    for (int l = 0; l < PL; ++l) differ += !same_bits(v[0][l], kernel_exp<T>(xs[b + l]));
  }
  EXPECT_EQ(differ, 0) << (sizeof(T) == 4 ? "float" : "double") << ", this file's level";
#ifdef ICLCERT_BATCH_X86_LEVELS
  for (CpuLevel level : {CpuLevel::v3, CpuLevel::v4}) {
    if (!cpu_level_supported(level)) {
      std::printf("the CPU lacks %s: its packed exp not compared\n", cpu_level_name(level));
      continue;
    }
    std::vector<T> got(xs.size());
    if (level == CpuLevel::v3) packed_exp_v3(xs.data(), got.data(), static_cast<long>(xs.size()));
    else packed_exp_v4(xs.data(), got.data(), static_cast<long>(xs.size()));
    long wrong = 0, nans = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      wrong += !same_bits(got[i], kernel_exp<T>(xs[i]));
      nans += got[i] != got[i];
    }
    EXPECT_EQ(wrong, 0) << (sizeof(T) == 4 ? "float" : "double") << " at " << cpu_level_name(level);
    EXPECT_EQ(nans, 11) << "the NaN inputs, and only they, give NaN";
    std::printf("packed exp at %s, %s: %zu inputs, %ld differ from kernel_exp\n", cpu_level_name(level),
                sizeof(T) == 4 ? "float" : "double", xs.size(), wrong);
  }
#endif
}

TEST(BatchLevel, TheExpIsCutBelowKCutAndThePackedExpIsTheKernels) {
  check_exp<float>();
  check_exp<double>();
}

// The level objects in the kernel's library: every call goes to the level's own
// namespace, its entry point, or memset / memcpy; none to fma or fmaf.
TEST(BatchLevel, NoLevelCallsFmaOrAnotherLevelsCode) {
#if !defined(ICLCERT_GPU_KERNEL_LIB)
  GTEST_SKIP() << "a build without the v3 and v4 files (not x86-64 with g++, or ICLCERT_CPU_LEVELS=native)";
#else
  if (std::system("objdump --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "objdump not found: check skipped";
  const std::string cmd = std::string("objdump -dr --no-show-raw-insn ") + ICLCERT_GPU_KERNEL_LIB;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  // Level object -> the namespace (mangled) its calls must stay in.
  const std::map<std::string, std::string> own = {
      {"batch_cpu_base.cpp.o", "10batch_base"},
      {"batch_cpu_v3.cpp.o", "8batch_v3"},
      {"batch_cpu_v4.cpp.o", "8batch_v4"}};
  std::string member;
  std::map<std::string, long> calls;
  std::set<std::string> foreign;
  bool after_call = false;
  char line[4096];
  while (std::fgets(line, sizeof line, p)) {
    const std::string s = line;
    if (s.rfind("In archive", 0) == 0) continue;
    if (const auto colon = s.find(":     file format"); colon != std::string::npos) {
      member = s.substr(0, colon);
      after_call = false;
      continue;
    }
    const auto it = own.find(member);
    if (it == own.end()) continue;
    if (s.find("\tcall") != std::string::npos || s.find("\tjmp") != std::string::npos) {
      after_call = true;
      continue;
    }
    if (!after_call) continue;
    after_call = false;
    const auto r = s.find("R_X86_64_PLT32");
    if (r == std::string::npos) continue;
    std::string target = s.substr(r + 14);
    target.erase(0, target.find_first_not_of(" \t"));
    target = target.substr(0, target.find_first_of("-+ \n"));
    ++calls[member];
    const bool ok = target.find(it->second) != std::string::npos || target.find("run_range_") != std::string::npos ||
                    target == "memset" || target == "memcpy";
    if (!ok) foreign.insert(member + " -> " + target);
  }
  const int status = pclose(p);
  ASSERT_EQ(status, 0) << cmd;
  for (const auto& [obj, ns] : own) {
    std::printf("%s: %ld calls checked\n", obj.c_str(), calls[obj]);
    EXPECT_GT(calls[obj], 0) << obj << " not found in " << ICLCERT_GPU_KERNEL_LIB;
  }
  for (const std::string& f : foreign) ADD_FAILURE() << "a call out of the level: " << f;
#endif
}

}  // namespace
}  // namespace iclcert::gpu::testing

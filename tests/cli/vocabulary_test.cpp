// Issue 27: one name and one meaning per thing across the commands (docs/cli.md),
// the old spellings accepted for one release, and one progress line for every
// long command: a bar on a terminal, nothing when piped unless --progress asks.
#include "cli/batch_command.hpp"
#include "cli/check_command.hpp"
#include "cli/compare_command.hpp"
#include "cli/extract_command.hpp"
#include "cli/run_command.hpp"
#include "cli/sample_command.hpp"
#include "cli/sweep_command.hpp"
#ifdef ICLCERT_HAVE_PROPERTIES
#include "cli/fuzz_command.hpp"
#endif
#ifdef ICLCERT_HAVE_Z3
#include "cli/prove_command.hpp"
#endif
#include "gpu/progress.hpp"
#include "support/cli_runner.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using iclcert::testing::iclcert;
using Json = nlohmann::json;
using Vocabulary = iclcert::testing::CliTest;

// Every command of the binary, registered as main.cpp registers them.
struct Commands {
  CLI::App app{"iclcert"};
  std::vector<std::function<int()>> actions;  // they own the options the parse writes into
  Commands() {
    using namespace iclcert::cli;
    for (auto* add : {register_run, register_sample, register_check, register_batch, register_extract, register_compare,
                      register_sweep})
      actions.push_back(add(app));
#ifdef ICLCERT_HAVE_PROPERTIES
    actions.push_back(register_fuzz(app));
#endif
#ifdef ICLCERT_HAVE_Z3
    actions.push_back(register_prove(app));
#endif
  }
  // The names --help shows, per command (hidden options, the old spellings, have no group).
  std::map<std::string, std::vector<const CLI::Option*>> visible() const {
    std::map<std::string, std::vector<const CLI::Option*>> out;
    for (const CLI::App* cmd : app.get_subcommands([](const CLI::App*) { return true; }))
      for (const CLI::Option* o : cmd->get_options())
        if (!o->get_group().empty()) out[cmd->get_name()].push_back(o);
    return out;
  }
};

std::vector<std::string> names_of(const CLI::Option* o) {
  std::vector<std::string> names;
  for (const auto& n : o->get_lnames()) names.push_back("--" + n);
  for (const auto& n : o->get_snames()) names.push_back("-" + n);
  return names;
}

// A concept, its one spelling, and the spellings it had (or might grow) elsewhere.
struct Concept {
  std::string what, canonical;
  std::set<std::string> others;
};
const std::vector<Concept> kConcepts = {
    {"the prompt (or batch) file", "--prompt", {"--prompt-file", "--prompts-file", "--input"}},
    {"how many prompts to draw", "--count", {"--prompts", "--samples", "--num", "--n"}},
    {"the prompts' sizes d,C,N", "--sample", {"-d", "-C", "-N", "--d", "--C", "--N", "--sizes"}},
    {"no progress line", "--no-progress", {"--quiet", "--silent"}},
};

TEST(VocabularyOfOptions, NoCommandShowsASecondSpellingOfAKnownConcept) {
  const Commands c;
  const auto visible = c.visible();
  ASSERT_GE(visible.size(), 7u);
  for (const auto& [command, options] : visible)
    for (const CLI::Option* o : options)
      for (const std::string& name : names_of(o))
        for (const Concept& k : kConcepts)
          EXPECT_FALSE(k.others.contains(name))
              << command << " " << name << ": " << k.what << " is spelt " << k.canonical << " (docs/cli.md)";
}

TEST(VocabularyOfOptions, OneMeaningAndOneDefaultPerName) {
  const Commands c;
  std::map<std::string, std::set<std::string>> max_prec_defaults, validate_defaults;
  std::set<std::string> with_progress;
  for (const auto& [command, options] : c.visible()) {
    std::set<std::string> names;
    for (const CLI::Option* o : options) names.insert(o->get_name());
    for (const CLI::Option* o : options) {
      if (o->get_name() == "--max-prec") max_prec_defaults[o->get_default_str()].insert(command);
      if (o->get_name() == "--validate") validate_defaults[o->get_default_str()].insert(command);
    }
    // A command with one of the progress flags has both.
    if (names.contains("--progress") || names.contains("--no-progress")) {
      with_progress.insert(command);
      EXPECT_TRUE(names.contains("--progress") && names.contains("--no-progress")) << command;
    }
  }
  EXPECT_EQ(max_prec_defaults.size(), 1u) << "--max-prec has one default: 1024";
  EXPECT_TRUE(max_prec_defaults.contains("1024"));
  EXPECT_EQ(max_prec_defaults["1024"], (std::set<std::string>{"batch", "check", "compare", "sweep"}));
  EXPECT_EQ(validate_defaults, (std::map<std::string, std::set<std::string>>{{"0", {"batch", "compare"}}}));
  EXPECT_EQ(with_progress, (std::set<std::string>{"batch", "check", "compare", "sweep"}));
}

// The old spellings parse, hidden from --help, and refuse to be given with the new one.
TEST(VocabularyOfOptions, OldSpellingsParseAndAreHidden) {
  const std::vector<std::vector<std::string>> lines = {
      {"sample", "-d", "3", "-C", "2", "-N", "5"},        {"batch", "--prompt-file", "p.json", "--prompts", "3"},
      {"compare", "--model", "a", "--against", "b", "--prompt-file", "p.json"},
      {"extract", "--model", "m", "--d", "2", "--C", "3"}, {"extract", "--model", "m", "--prompt-file", "p.json"},
      {"sweep", "--prompt-file", "p.json", "--prompts", "2"}, {"check", "--claim", "C1", "--samples", "5"}};
  for (std::vector<std::string> line : lines) {
    Commands c;
    std::reverse(line.begin(), line.end());  // CLI11 parses a reversed vector
    EXPECT_NO_THROW(c.app.parse(line)) << line.back();
  }
  Commands both;
  std::vector<std::string> line = {"--prompts", "4", "--count", "3", "batch"};
  EXPECT_THROW(both.app.parse(line), CLI::ParseError);
  const Commands c;
  for (const auto& [command, options] : c.visible())
    for (const CLI::Option* o : options)
      EXPECT_EQ(o->get_description().find("old spelling"), std::string::npos) << command << " " << o->get_name();
}

std::string read_text(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

// Old and new spellings write the same bytes (outputs without timings).
TEST_F(Vocabulary, OldAndNewSpellingsWriteTheSameFiles) {
  ASSERT_EQ(iclcert("sample -d 3 -C 2 -N 5 --count 3 --seed 4 --out " + path("old.json")).status, 0);
  ASSERT_EQ(iclcert("sample --sample 3,2,5 --count 3 --seed 4 --out " + path("new.json")).status, 0);
  EXPECT_EQ(read_text(path("old.json")), read_text(path("new.json")));
  const std::string model = std::string(ICLCERT_SOURCE_DIR) + "/examples/default_model.json";
  ASSERT_EQ(iclcert("extract --model " + model + " --d 4 --C 3 --json " + path("e_old.json")).status, 0);
  ASSERT_EQ(iclcert("extract --model " + model + " --sample 4,3,24 --json " + path("e_new.json")).status, 0);
  EXPECT_EQ(read_text(path("e_old.json")), read_text(path("e_new.json")));
  const std::string base = "batch --sample 2,2,4 --seed 3 --arith float64 --device cpu --threads 1 --no-progress --csv ";
  ASSERT_EQ(iclcert(base + path("b_old.csv") + " --prompts 30").status, 0);
  ASSERT_EQ(iclcert(base + path("b_new.csv") + " --count 30").status, 0);
  EXPECT_EQ(read_text(path("b_old.csv")), read_text(path("b_new.csv")));
  // check --arith interval:BITS is --arith interval --prec BITS: the same verdict file.
  auto verdict = [&](const std::string& args, const std::string& file) {
    EXPECT_EQ(iclcert("check --claim A2 " + args + " --json " + path(file)).status, 0);
    Json j = Json::parse(std::ifstream(path(file)));
    j["evidence"].erase("seconds");
    for (Json& level : j["evidence"]["precision_escalation"]) level.erase("seconds");
    return j;
  };
  const Json bits = verdict("--arith interval:256", "v1.json"), prec = verdict("--arith interval --prec 256", "v2.json");
  EXPECT_EQ(bits, prec);
  EXPECT_EQ(bits["evidence"]["options"]["arith"], "interval");
  EXPECT_EQ(bits["evidence"]["options"]["prec"], 256);
  EXPECT_EQ(iclcert("check --claim A2 --arith interval:256 --prec 128").status, 2);
  EXPECT_EQ(iclcert("check --claim A2 --arith mpfr:256").status, 2);
}

TEST_F(Vocabulary, BothSpellingsAtOnceAreRefused) {
  const auto r = iclcert("sweep --claim A2 --grid beta=0:1:2 --sample 2,2,4 --count 2 --prompts 3 --no-progress");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("give --count alone (--prompts is its old spelling)"), std::string::npos) << r.output;
  EXPECT_EQ(iclcert("sample --sample 2,2,3 -d 3").status, 2);
  // A bad value of an old spelling is reported under that name (CLI11 names a hidden option "").
  const auto range = iclcert("batch --sample 2,2,4 --prompts 0");
  EXPECT_EQ(range.status, 2);
  EXPECT_EQ(range.output, "iclcert: --prompts: Value 0 not in range 1 to 1000000000 (see iclcert --help)\n");
}

// `script` gives the command a terminal; skipped where util-linux's script is missing.
iclcert::testing::CliResult on_a_terminal(const std::string& args) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) return {-1, ""};
  return iclcert("--version >/dev/null; script -qec '" + std::string(ICLCERT_BINARY) + " " + args + "' /dev/null");
}

// The note goes to a person at a terminal; a script's pipes keep every byte.
TEST_F(Vocabulary, AnOldSpellingIsNotedOnATerminalOnly) {
  const std::string args = "sample -d 2 -C 2 -N 3 --out " + path("s.json");
  const auto piped = iclcert(args);
  EXPECT_EQ(piped.status, 0);
  EXPECT_EQ(piped.output, "") << "nothing on a pipe";
  const auto tty = on_a_terminal(args);
  if (tty.status == -1) GTEST_SKIP() << "no script(1)";
  EXPECT_EQ(tty.status, 0) << tty.output;
  // One line for -d, -C and -N together.
  EXPECT_NE(tty.output.find("iclcert: note: sample -d is an old spelling, accepted until the next release: write "
                            "--sample d,C,N"),
            std::string::npos)
      << tty.output;
  EXPECT_EQ(std::count(tty.output.begin(), tty.output.end(), '\n'), 1) << tty.output;
}

bool has_carriage_return(const std::string& s) { return s.find('\r') != std::string::npos; }

// Issue 27: check R1 and C1 drew `\r` lines into pipes and logs.
TEST_F(Vocabulary, PipedCommandsDrawNoProgressUnlessAsked) {
  const std::vector<std::string> commands = {
      "check --claim C1 --sample 2,2,4 --count 40 --seed 3 --json " + path("c1.json"),
      "check --claim R1 --box alpha=0.1:1 --budget 4 --map --json " + path("r1.json"),
      "batch --sample 2,2,4 --count 3000 --arith float64 --device cpu --threads 1 --chunk 500 --json " + path("b.json"),
      "sweep --claim A2 --grid beta=0:1:2 --sample 2,2,4 --count 2 --threads 1 --json " + path("s.json")};
  for (const std::string& command : commands) {
    SCOPED_TRACE(command);
    const auto quiet = iclcert(command);
    EXPECT_LE(quiet.status, 3) << quiet.output;
    EXPECT_FALSE(has_carriage_return(quiet.output)) << quiet.output;
    const auto asked = iclcert(command + " --progress");
    EXPECT_LE(asked.status, 3) << asked.output;
    EXPECT_TRUE(has_carriage_return(asked.output)) << asked.output;
    // One summary line at the end: "WHAT: DONE/TOTAL UNIT in S s (RATE UNIT/s)".
    EXPECT_NE(asked.output.find("/s)"), std::string::npos) << asked.output;
    EXPECT_EQ(iclcert(command + " --progress --no-progress").status, 2);
  }
  // A replay may ask for it too (it changes nothing of what is checked).
  EXPECT_EQ(iclcert("check --replay " + path("c1.json") + " --no-progress").status, 0);
}

// What Progress writes to standard error while `f` runs.
template <class F>
std::string stderr_of(F f) {
  std::fflush(stderr);
  const int saved = dup(2);
  std::FILE* tmp = std::tmpfile();
  dup2(fileno(tmp), 2);
  f();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, tmp)) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

// "0 prompts/s, 93720 s left": no estimate before a chunk after the first is in.
TEST(ProgressLine, EstimatesOnlyAfterTheFirstChunkAndEndsWithOneSummary) {
  using iclcert::gpu::Progress;
  using iclcert::gpu::ProgressMode;
  std::vector<std::string> lines;
  const std::string out = stderr_of([&] {
    Progress p("iclcert batch", 1000, ProgressMode::always);
    p.update(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past the redraw interval, 0.25 s
    p.update(100);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    p.update(300);
    p.finish();
    p.finish();  // once
  });
  std::stringstream s(out);
  for (std::string line; std::getline(s, line, '\r');)
    if (!line.empty()) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << out;
  EXPECT_EQ(lines[0].find("/s"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("[--------------------] 0/1000 prompts"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].find("/s"), std::string::npos) << "one chunk is no estimate: " << lines[1];
  EXPECT_NE(lines[2].find("prompts/s, "), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find(" s left"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3].rfind("iclcert batch: 300/1000 prompts in ", 0), 0u) << lines[3];
  EXPECT_EQ(lines[3].back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  // Not a terminal, not asked: nothing at all.
  EXPECT_EQ(stderr_of([] {
              Progress p("iclcert batch", 10, ProgressMode(true));
              p.update(10);
              p.finish();
            }),
            "");
}

}  // namespace

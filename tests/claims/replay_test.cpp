// `iclcert check --replay` is a check of a verdict file (theory/claims.md,
// "Replay"): exit 0 only when the recorded verdict and every recorded number are
// reproduced, 1 otherwise, 2 for a malformed file or one beyond the limits of the
// flags. Tampered files from issue 16 must exit 1; headlines say what was checked.
// Issue 23: files are read by their schema (a prompt row is not an enclosure), and a
// refuted file's evidence.instance is checked.
#include "support/cli_runner.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace {

using iclcert::testing::CliResult;
using iclcert::testing::iclcert;
using Json = nlohmann::ordered_json;

bool has(const CliResult& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

class Replay : public iclcert::testing::CliTest {
 protected:
  Json read(const std::string& file) { return Json::parse(std::ifstream(file)); }
  std::string save(const std::string& name, const Json& j) { return write(name, j.dump(1)); }
  // A verdict file written by `check ARGS --json`, its status checked.
  Json verdict_of(const std::string& args, int status) {
    const std::string out = path("made.json");
    const CliResult r = iclcert("check " + args + " --json " + out);
    EXPECT_EQ(r.status, status) << r.output;
    return read(out);
  }
  CliResult replay(const Json& verdict) { return iclcert("check --replay " + save("verdict.json", verdict)); }

  const std::string deep = std::string(ICLCERT_SOURCE_DIR) + "/examples/deep32_model.json";
};

// An honest file reproduces; the audit's edit of before/after to [100, 101] /
// [-5, -4] does not (before the fix it replayed as "reproduces", exit 0).
TEST_F(Replay, EditedEnclosuresDoNotReproduce) {
  const Json v = verdict_of("--claim A2", 0);
  ASSERT_EQ(v["verdict"], "proved");
  const CliResult honest = replay(v);
  EXPECT_EQ(honest.status, 0) << honest.output;
  EXPECT_TRUE(has(honest, "replay reproduces the recorded verdict")) << honest.output;

  Json tampered = v;
  tampered["evidence"]["layers"][0]["before"] = {"100", "101"};
  tampered["evidence"]["layers"][0]["after"] = {"-5", "-4"};
  const CliResult r = replay(tampered);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(has(r, "DOES NOT reproduce")) << r.output;
  EXPECT_TRUE(has(r, "evidence.layers[0].before: recorded [100, 101] does not contain")) << r.output;
  EXPECT_TRUE(has(r, "evidence.layers[0].after")) << r.output;

  // A wider recorded enclosure still holds the value: reproduced.
  Json wider = v;
  wider["evidence"]["layers"][1]["after"] = {"-1000", "1000"};
  EXPECT_EQ(replay(wider).status, 0);
  // A recorded outcome or count that differs is not reproduced.
  Json outcome = v;
  outcome["evidence"]["layers"][1]["outcome"] = "undecided";
  EXPECT_EQ(replay(outcome).status, 1);
}

// A recorded enclosure thinner than the recomputed one at the recorded precision is
// reproduced at more bits when it holds the value (an enclosure computed at 256
// bits, recorded in a 128-bit file), and not when it misses it.
TEST_F(Replay, ThinnerEnclosuresAreSettledAtMoreBits) {
  const Json fine = verdict_of("--claim A2 --prec 256 --max-prec 256", 0);
  const Json v = verdict_of("--claim A2", 0);
  ASSERT_EQ(v["precision_bits"], 128);
  const Json thin = fine["evidence"]["layers"][2]["after"];
  ASSERT_TRUE(thin.is_array()) << thin;
  Json holds = v;
  holds["evidence"]["layers"][2]["after"] = thin;
  const CliResult ok = replay(holds);
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_TRUE(has(ok, "1 recorded enclosures were thinner than the recomputation at 128 bits, and contain it at 256 bits"))
      << ok.output;
  // [hi + tiny, hi128]: overlaps the 128-bit enclosure, misses the value.
  const std::string hi = thin[1].get<std::string>();
  const std::string above = hi.find('e') == std::string::npos ? hi + "1" : hi.substr(0, hi.find('e')) + "1" + hi.substr(hi.find('e'));
  Json misses = v;
  misses["evidence"]["layers"][2]["after"] = {above, v["evidence"]["layers"][2]["after"][1]};
  const CliResult bad = replay(misses);
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_TRUE(has(bad, "evidence.layers[2].after")) << bad.output;
}

// Refuted verdicts: replay from the counterexample alone, and the audit's tampers.
TEST_F(Replay, RefutedVerdictsAndTheirTampers) {
  const Json v = verdict_of("--claim A2 --model " + deep, 1);
  ASSERT_EQ(v["verdict"], "refuted");
  ASSERT_EQ(v["counterexample"]["layer"], 8);

  // From the counterexample alone: evidence.instance removed.
  Json alone = v;
  alone["evidence"].erase("instance");
  const CliResult r = replay(alone);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r, "instance from its counterexample")) << r.output;
  EXPECT_TRUE(has(r, "reproduces the recorded verdict")) << r.output;

  // Edited to proved: the replay refutes it (exit 1).
  Json proved = v;
  proved["verdict"] = "proved";
  proved["counterexample"] = nullptr;
  EXPECT_EQ(replay(proved).status, 1);

  // Edited to proved with options.layers "0:1": the replay checks layer 1 only, its
  // headline says so, and the recorded layers 2 to 32 are not reproduced (before the
  // fix: "proved ... reproduces", exit 0, under "at every layer").
  Json narrowed = proved;
  narrowed["evidence"]["options"]["layers"] = "0:1";
  const CliResult n = replay(narrowed);
  EXPECT_EQ(n.status, 1) << n.output;
  EXPECT_TRUE(has(n, "at layers 1 to 1 only, of 32 (--layers 0:1)")) << n.output;
  EXPECT_TRUE(has(n, "claim A2: M^{t+1} >= M^t (M = F, the Fisher ratio) at layers 1 to 1 only")) << n.output;
  EXPECT_TRUE(has(n, "evidence.layers[1].outcome: recorded \"holds\", which the replay does not compute")) << n.output;
  EXPECT_TRUE(has(n, "options from")) << n.output;
  EXPECT_TRUE(has(n, "layers \"0:1\"")) << n.output;

  // Recorded refuted, but with layers 0:7 (where F still grows) the replay proves
  // it: not reproduced, exit 1 (before the fix: exit 0).
  Json early = v;
  early["evidence"]["options"]["layers"] = "0:7";
  const CliResult e = replay(early);
  EXPECT_EQ(e.status, 1) << e.output;
  EXPECT_TRUE(has(e, "verdict: recorded refuted, recomputed proved")) << e.output;

  // The recorded counterexample values are checked too.
  Json moved = v;
  moved["counterexample"]["after"] = {"100", "101"};
  EXPECT_EQ(replay(moved).status, 1);
}

// Issue 23: a verdict file is read by its schema, not by the shape of a value. The
// reproduction: an R1 refutation whose prompt (d = 2) has a row with x1 > x2.
class R1Replay : public Replay {
 protected:
  Json refuted() {
    const std::string prompt = write("p.json", R"({"format":1,"d":2,"C":2,"N":4,
      "X":[["1","0"],["2","1"],["0","1"],["1","3"]],"labels":[0,0,1,1],"probe":["1","1"],"probe_label":0})");
    const std::string model = write("m.json", R"({"format":1,"layers":[
      {"beta":"1","gamma":"1","alpha":"1/2","alpha_label":"1"}]})");
    Json v = verdict_of("--claim R1 --prompt " + prompt + " --model " + model + " --box alpha=-1:-1/2", 1);
    EXPECT_EQ(v["verdict"], "refuted");
    return v;
  }
  Json& failure(Json& v) { return v["evidence"]["refuting_points"][0]["failure"]; }
};

// Before the fix the row ["2", "1"] was read as an enclosure with lo > hi: exit 2.
TEST_F(R1Replay, APromptRowIsNotAnEnclosure) {
  Json v = refuted();
  ASSERT_EQ(failure(v)["prompt"]["X"][1], Json::array({"2", "1"}));
  const CliResult r = replay(v);
  EXPECT_EQ(r.status, 0) << r.output;  // reproduced (docs/formats.md: 0 reproduced, 1 not)
  EXPECT_TRUE(has(r, "replay reproduces the recorded verdict")) << r.output;
  EXPECT_TRUE(has(r, "evidence.instance is the counterexample's prompt and model (but for the boxed coefficients)"))
      << r.output;
  EXPECT_FALSE(has(r, "lo > hi")) << r.output;
}

// The embedded prompt is a prompt: widening a row to [-100, 100] is a difference,
// number by number (before the fix, the widened row "contained" the recomputed one).
TEST_F(R1Replay, AWidenedEmbeddedPromptIsADifference) {
  Json v = refuted();
  failure(v)["prompt"]["X"][1] = {"-100", "100"};
  const CliResult r = replay(v);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(has(r, "DOES NOT reproduce")) << r.output;
  EXPECT_TRUE(has(r, "evidence.refuting_points[0].failure.prompt.X[1][0]: recorded \"-100\", recomputed \"2\""))
      << r.output;
  EXPECT_TRUE(has(r, "evidence.refuting_points[0].failure.prompt.X[1][1]: recorded \"100\", recomputed \"1\""))
      << r.output;

  // The same number written otherwise is the same prompt; a sub-box range is exact.
  Json same = refuted();
  failure(same)["prompt"]["X"][3] = {"1.0", "6/2"};
  EXPECT_EQ(replay(same).status, 0);
  Json wider_box = refuted();
  wider_box["evidence"]["refuting_points"][0]["sub_box"]["alpha"] = {"-2", "0"};
  const CliResult b = replay(wider_box);
  EXPECT_EQ(b.status, 1) << b.output;
  EXPECT_TRUE(has(b, "evidence.refuting_points[0].sub_box.alpha[0]: recorded -2, recomputed -1")) << b.output;

  // A malformed embedded prompt or model is malformed input: exit 2 naming the field.
  Json ragged = refuted();
  failure(ragged)["prompt"]["X"][1] = {"1", "2", "3"};
  const CliResult g = replay(ragged);
  EXPECT_EQ(g.status, 2) << g.output;
  EXPECT_TRUE(has(g, "evidence.refuting_points[0].failure.prompt")) << g.output;
  Json no_model = refuted();
  failure(no_model)["model"] = "none";
  const CliResult m = replay(no_model);
  EXPECT_EQ(m.status, 2) << m.output;
  EXPECT_TRUE(has(m, "evidence.refuting_points[0].failure.model")) << m.output;
  // A field that holds a certified value is still an enclosure: lo > hi is malformed.
  Json reversed = refuted();
  failure(reversed)["before"] = {"1", "0"};
  const CliResult e = replay(reversed);
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_TRUE(has(e, "evidence.refuting_points[0].failure.before: an enclosure [lo, hi] with lo > hi")) << e.output;
}

// A refuted file's evidence.instance is compared with the counterexample's instance
// (before the fix it was not compared at all: each tamper below replayed with exit 0).
TEST_F(R1Replay, TheInstanceOfARefutedFileIsChecked) {
  Json gamma = refuted();
  gamma["evidence"]["instance"]["model"]["layers"][0]["gamma"] = "2";
  const CliResult r = replay(gamma);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(has(r, "evidence.instance.model.layers[0].gamma: recorded \"2\", the counterexample's \"1\"")) << r.output;
  Json moved = refuted();
  moved["evidence"]["instance"]["prompt"]["probe"] = {"1", "2"};
  const CliResult p = replay(moved);
  EXPECT_EQ(p.status, 1) << p.output;
  EXPECT_TRUE(has(p, "evidence.instance.prompt.probe[1]: recorded \"2\", the counterexample's \"1\"")) << p.output;
  Json unlabelled = refuted();
  unlabelled["evidence"]["instance"]["prompt"].erase("probe_label");
  const CliResult u = replay(unlabelled);
  EXPECT_EQ(u.status, 1) << u.output;
  EXPECT_TRUE(has(u, "evidence.instance.prompt.probe_label: not recorded, the counterexample's 0")) << u.output;
  // alpha is boxed: R1 ranges over it, and the counterexample sets it to the refuting point.
  Json boxed = refuted();
  boxed["evidence"]["instance"]["model"]["layers"][0]["alpha"] = "7";
  EXPECT_EQ(replay(boxed).status, 0);
  // A malformed instance is malformed input.
  Json broken = refuted();
  broken["evidence"]["instance"]["model"] = Json::array();
  const CliResult b = replay(broken);
  EXPECT_EQ(b.status, 2) << b.output;
  EXPECT_TRUE(has(b, "evidence.instance.model")) << b.output;
}

// The same for A2: the instance is the counterexample's, every coefficient of it.
TEST_F(Replay, TheInstanceOfARefutedA2FileIsChecked) {
  Json v = verdict_of("--claim A2 --model " + deep, 1);
  ASSERT_EQ(v["verdict"], "refuted");
  EXPECT_EQ(replay(v).status, 0);
  v["evidence"]["instance"]["model"]["layers"][3]["alpha"] = "1/3";
  const CliResult r = replay(v);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(has(r, "evidence.instance.model.layers[3].alpha: recorded \"1/3\", the counterexample's")) << r.output;
}

// The headline is built from the options: a check of layer 1 only says so, in the
// verdict file too, and a replay of that honest file reproduces it.
TEST_F(Replay, HeadlineStatesTheLayersChecked) {
  const Json v = verdict_of("--claim A2 --model " + deep + " --layers 0:1", 0);
  const std::string headline = v["evidence"].value("headline", "");
  EXPECT_NE(headline.find("at layers 1 to 1 only, of 32"), std::string::npos) << headline;
  EXPECT_EQ(v["evidence"].value("verdict_kind", ""), "certified");
  const CliResult r = replay(v);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r, "claim A2: M^{t+1} >= M^t (M = F, the Fisher ratio) at layers 1 to 1 only, of 32")) << r.output;
  const Json all = verdict_of("--claim A2 --metric gap", 0);
  EXPECT_NE(all["evidence"].value("headline", "").find("(M = R, the gap ratio) at every layer, 1 to 6"),
            std::string::npos)
      << all["evidence"];
}

// C1: a statistical verdict, with its own replay from the seeds (before the fix a
// refuted C1 file failed with "counterexample.prompt: missing").
TEST_F(Replay, StatisticalC1RefutationReplaysFromTheSeeds) {
  // The probe reads the labels out with the wrong sign: E[g] < 0.
  const std::string model = write("negative.json", R"({"format":1,"layers":[
    {"beta":"0","gamma":"1","alpha":"1/2","alpha_label":"1/2",
     "probe":{"beta":"4","gamma":"0","alpha":"0","alpha_label":"-1"}}]})");
  const std::string args = "--claim C1 --model " + model + " --sample 2,2,8 --seed 7 --samples 1500 --confidence 0.8";
  const Json v = verdict_of(args, 1);
  ASSERT_EQ(v["verdict"], "refuted");
  EXPECT_TRUE(v["counterexample"].is_null());
  EXPECT_EQ(v["evidence"].value("verdict_kind", ""), "statistical");
  EXPECT_EQ(v["evidence"].value("delta_per_bound", ""), "1/15");  // delta = 1/5 split over three bounds
  EXPECT_NE(v["evidence"].value("headline", "").find("statistical"), std::string::npos);
  const CliResult r = replay(v);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r, "verdict: refuted (statistical, confidence 0.8)")) << r.output;
  EXPECT_TRUE(has(r, "hold jointly with confidence 4/5")) << r.output;
  EXPECT_TRUE(has(r, "reproduces the recorded verdict")) << r.output;

  // Other seeds draw other prompts: the recorded bounds are not reproduced.
  Json reseeded = v;
  reseeded["evidence"]["options"]["seed"] = 8;
  const CliResult s = replay(reseeded);
  EXPECT_EQ(s.status, 1) << s.output;
  EXPECT_TRUE(has(s, "evidence.mean_alignment_upper_bound")) << s.output;
}

// A verdict file is input like any other: the limits of the flags, exit 2 naming
// the file and the field.
TEST_F(Replay, VerdictFileLimitsAreTheFlagsLimits) {
  const Json v = verdict_of("--claim A2", 0);
  auto set = [&](auto&& edit) {
    Json j = v;
    edit(j);
    return j;
  };
  const std::vector<std::pair<Json, std::string>> cases = {
      {set([](Json& j) { j["precision_bits"] = 1000000000; }), "field precision_bits"},
      {set([](Json& j) { j["precision_bits"] = 8; }), "field precision_bits"},
      {set([](Json& j) { j["evidence"]["options"]["max_prec"] = 1L << 40; }), "evidence.options.max_prec"},
      {set([](Json& j) { j["evidence"]["options"]["samples"] = 100000000; }), "evidence.options.samples"},
      {set([](Json& j) { j["evidence"]["options"]["budget"] = 1L << 30; }), "evidence.options.budget"},
      {set([](Json& j) { j["evidence"]["options"]["sample"] = "4,3,100000"; }), "evidence.options.sample"},
      {set([](Json& j) { j["evidence"]["options"]["layers"] = "3abc:5"; }), "evidence.options.layers"},
      {set([](Json& j) { j["evidence"]["options"]["seed"] = -1; }), "evidence.options.seed"},
      {set([](Json& j) { j["evidence"]["options"]["box"] = {"delta=0:1"}; }), "evidence.options.box[0]"},
      {set([](Json& j) { j["evidence"]["layers"][0]["after"] = {"2", "1"}; }), "evidence.layers[0].after"},
      {set([](Json& j) { j["evidence"]["instance"]["prompt"] = {{"format", 1}, {"prompts", Json::array()}}; }),
       "evidence.instance.prompt"},
  };
  for (const auto& [file, field] : cases) {
    const CliResult r = replay(file);
    EXPECT_EQ(r.status, 2) << field << "\n" << r.output;
    EXPECT_TRUE(has(r, "verdict.json")) << r.output;
    EXPECT_TRUE(has(r, field)) << field << "\n" << r.output;
  }
}

// The flags: --layers accepts two whole numbers only; precision and budget have
// upper limits; a flag beside --replay is refused.
TEST_F(Replay, CheckFlagsAreLimited) {
  for (const char* layers : {"junk", "3abc:5", "0:6x", "+0:6", " 0:6", "0:", "1:1"}) {
    const CliResult r = iclcert(std::string("check --claim A2 --layers '") + layers + "'");
    EXPECT_EQ(r.status, 2) << layers << "\n" << r.output;
    EXPECT_TRUE(has(r, "--layers")) << r.output;
  }
  EXPECT_EQ(iclcert("check --claim E1 --layers junk").status, 2);
  const CliResult prec = iclcert("check --claim A2 --max-prec 100000");
  EXPECT_EQ(prec.status, 2) << prec.output;
  EXPECT_TRUE(has(prec, "ICLCERT_MAX_PRECISION_BITS")) << prec.output;
  const CliResult budget = iclcert("check --claim R1 --box alpha=0.5:1 --budget 2000000");
  EXPECT_EQ(budget.status, 2) << budget.output;
  EXPECT_TRUE(has(budget, "--budget")) << budget.output;
  EXPECT_EQ(iclcert("check --claim C1 --sample 2,2,8 --samples 20000000").status, 2);

  const std::string v = save("v.json", verdict_of("--claim A2", 0));
  const CliResult beside = iclcert("check --replay " + v + " --layers 0:1");
  EXPECT_EQ(beside.status, 2) << beside.output;
  EXPECT_TRUE(has(beside, "--layers cannot be given with --replay")) << beside.output;
}

}  // namespace

namespace {

// Issue 26 changed R1's paving order: a file records it in options.paving, and a
// file without it (written before) replays in the old breadth-first order, which
// the replay names; an unknown order is a malformed file.
TEST_F(Replay, R1PavingOrderIsRecordedAndReplayed) {
  const std::string model = std::string(ICLCERT_SOURCE_DIR) + "/examples/models/reduced4.json";
  Json v = verdict_of("--claim R1 --map --box gamma=1:4 --budget 6 --model " + model, 3);
  EXPECT_EQ(v["evidence"]["options"]["paving"], "ordered");
  const CliResult same = replay(v);
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_TRUE(has(same, "paving ordered")) << same.output;

  Json old = v;
  old["evidence"]["options"].erase("paving");
  const CliResult breadth = replay(old);
  EXPECT_NE(breadth.status, 2) << breadth.output;
  EXPECT_FALSE(has(breadth, "paving ordered")) << breadth.output;

  Json bad = v;
  bad["evidence"]["options"]["paving"] = "random";
  const CliResult refused = replay(bad);
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_TRUE(has(refused, "paving")) << refused.output;
}

}  // namespace

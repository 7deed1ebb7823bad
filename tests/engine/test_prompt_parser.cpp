// The A1111 prompt parser: attention brackets, escapes, BREAK, merging, unbalanced brackets and LoRA tags, case by
// case. Expected weights are the products A1111 computes (in double, in its order), compared exactly as float.
#include "gesso/prompt/prompt_parser.h"

#include "gesso/error.h"

#include <QtTest>

#include <vector>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::prompt::LoraTag;
using gesso::prompt::WeightedText;

using Runs = std::vector<WeightedText>;
using Loras = std::vector<LoraTag>;
Q_DECLARE_METATYPE(Runs)
Q_DECLARE_METATYPE(Loras)

namespace {

constexpr double kUp = 1.1;
constexpr double kDown = 1.0 / 1.1;

WeightedText T(const char* text, double weight = 1.0) { return {text, static_cast<float>(weight), false}; }
WeightedText Break() { return {"", 1.0f, true}; }

LoraTag lora(const char* name, float strength, float unet_strength, std::optional<int> dyn = std::nullopt,
             const char* type = "lora") {
  LoraTag tag;
  tag.name = name;
  tag.strength = strength;
  tag.unet_strength = unet_strength;
  tag.dyn_dim = dyn;
  tag.type = type;
  return tag;
}

QString describe(const Runs& runs) {
  QStringList items;
  for (const WeightedText& run : runs) {
    if (run.is_break) {
      items << "BREAK";
    } else {
      items << QString("['%1', %2]").arg(QString::fromStdString(run.text)).arg(double(run.weight), 0, 'g', 17);
    }
  }
  return items.join(", ");
}

QString describe(const Loras& loras) {
  QStringList items;
  for (const LoraTag& tag : loras)
    items << QString("<%1:%2 te=%3 unet=%4 dyn=%5>")
                 .arg(QString::fromStdString(tag.type), QString::fromStdString(tag.name))
                 .arg(double(tag.strength))
                 .arg(double(tag.unet_strength))
                 .arg(tag.dyn_dim ? QString::number(*tag.dyn_dim) : QString("none"));
  return items.join(", ");
}

}  // namespace

class PromptParserTest : public QObject {
  Q_OBJECT

 private slots:
  void attention_data() {
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<Runs>("expected");

    // A1111's own doctests (modules/prompt_parser.py).
    QTest::newRow("plain") << "normal text" << Runs{T("normal text")};
    QTest::newRow("important") << "an (important) word" << Runs{T("an "), T("important", kUp), T(" word")};
    QTest::newRow("unbalanced (") << "(unbalanced" << Runs{T("unbalanced", kUp)};
    QTest::newRow("escapes") << R"(\(literal\])" << Runs{T("(literal]")};
    QTest::newRow("merged parens") << "(unnecessary)(parens)" << Runs{T("unnecessaryparens", kUp)};
    QTest::newRow("a1111 house") << "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky)))."
                                 << Runs{T("a "),
                                         T("house", 1.3 * kUp * kUp),  // 1.5730000000000004
                                         T(" ", kUp),
                                         T("on", kDown * kUp),  // exactly 1.0 in double
                                         T(" a ", kUp),
                                         T("hill", 0.5 * kUp),
                                         T(", sun, ", kUp),
                                         T("sky", kUp * kUp * kUp * kUp),  // 1.4641000000000006
                                         T(".", kUp)};

    // The cases of the brief.
    QTest::newRow("explicit weight") << "a (b:1.5) c" << Runs{T("a "), T("b", 1.5), T(" c")};
    QTest::newRow("(a)") << "(a)" << Runs{T("a", kUp)};
    QTest::newRow("((a))") << "((a))" << Runs{T("a", kUp * kUp)};
    QTest::newRow("[a]") << "[a]" << Runs{T("a", kDown)};
    QTest::newRow("[[a]]") << "[[a]]" << Runs{T("a", kDown * kDown)};
    QTest::newRow("escaped parens") << R"(\(a\))" << Runs{T("(a)")};
    QTest::newRow("escaped backslash") << R"(a\\b)" << Runs{T(R"(a\b)")};
    QTest::newRow("lone backslash dropped") << R"(a\b)" << Runs{T("ab")};
    QTest::newRow("escape inside brackets") << R"(\((a)\))" << Runs{T("("), T("a", kUp), T(")")};
    QTest::newRow("two weights") << "(a:1.2) (b:0.8)" << Runs{T("a", 1.2), T(" "), T("b", 0.8)};
    QTest::newRow("nested weight") << "((a:1.5) b)" << Runs{T("a", 1.5 * kUp), T(" b", kUp)};
    QTest::newRow("nested inner weight") << "(a (b:2) c)" << Runs{T("a ", kUp), T("b", 2.0 * kUp), T(" c", kUp)};
    QTest::newRow("equal weights merge") << "(a:1.1)(b)" << Runs{T("ab", 1.1)};
    QTest::newRow("negative weight") << "(a:-0.5)" << Runs{T("a", -0.5)};
    QTest::newRow("plus sign") << "(a:+2)" << Runs{T("a", 2.0)};
    QTest::newRow("leading dot") << "(a:.5)" << Runs{T("a", 0.5)};
    QTest::newRow("trailing dot") << "(a:2.)" << Runs{T("a", 2.0)};
    QTest::newRow("zero weight") << "x (a:0) y" << Runs{T("x "), T("a", 0.0), T(" y")};

    // Unbalanced and malformed brackets, as A1111 treats them.
    QTest::newRow("stray )") << "a) b" << Runs{T("a) b")};
    QTest::newRow("stray ]") << "a] b" << Runs{T("a] b")};
    QTest::newRow("unclosed [") << "x [a" << Runs{T("x "), T("a", kDown)};
    QTest::newRow("unclosed ( twice") << "((a" << Runs{T("a", kUp * kUp)};
    QTest::newRow("( closed by ) past [") << "(a [b)" << Runs{T("a ", kUp), T("b", kUp * kDown)};
    QTest::newRow("space before weight") << "(a: 1.2)" << Runs{T("a: 1.2", kUp)};
    QTest::newRow("weight without (") << "a:1.2) b" << Runs{T("a:1.2) b")};
    QTest::newRow("weight in [ ]") << "[a:1.5]" << Runs{T("a:1.5", kDown)};
    QTest::newRow("weight closes no [") << "[a:1.5)" << Runs{T("a:1.5)", kDown)};
    QTest::newRow("colon text") << "a:b" << Runs{T("a:b")};
    QTest::newRow("empty") << "" << Runs{T("")};
    QTest::newRow("empty parens") << "()" << Runs{T("")};

    // BREAK: a capitalised word of its own; the white space around it is eaten.
    QTest::newRow("BREAK") << "a BREAK b" << Runs{T("a"), Break(), T("b")};
    QTest::newRow("BREAK spaces") << "a  \n BREAK\t b" << Runs{T("a"), Break(), T("b")};
    QTest::newRow("BREAK commas") << "a, BREAK, b" << Runs{T("a,"), Break(), T(", b")};
    QTest::newRow("BREAK alone") << "BREAK" << Runs{T(""), Break(), T("")};
    QTest::newRow("BREAK at end") << "a BREAK" << Runs{T("a"), Break(), T("")};
    QTest::newRow("BREAK BREAK") << "a BREAK BREAK b" << Runs{T("a"), Break(), T(""), Break(), T("b")};
    QTest::newRow("BREAK in word") << "aBREAK BREAKb BREAK_x" << Runs{T("aBREAK BREAKb BREAK_x")};
    QTest::newRow("lowercase break") << "a break b" << Runs{T("a break b")};
    QTest::newRow("BREAK after colon") << "a:BREAK b" << Runs{T("a:"), Break(), T("b")};
    QTest::newRow("BREAK weighted sides") << "(a) BREAK [b]" << Runs{T("a", kUp), T(""), Break(), T(""), T("b", kDown)};
    // Deviation from A1111 (which would encode the word "BREAK" with weight -1.1): a BREAK in brackets stays a BREAK.
    QTest::newRow("BREAK in brackets") << "(a BREAK b)" << Runs{T("a", kUp), Break(), T("b", kUp)};
    QTest::newRow("utf-8 text") << "caf\xc3\xa9 (cr\xc3\xa8me)" << Runs{T("caf\xc3\xa9 "), T("cr\xc3\xa8me", kUp)};
  }

  void attention() {
    QFETCH(QString, prompt);
    QFETCH(Runs, expected);
    const Runs actual = gesso::prompt::parseAttention(prompt.toStdString());
    QVERIFY2(actual == expected, qPrintable("got " + describe(actual) + "\nexpected " + describe(expected)));
  }

  void weightsAreA1111Doubles() {
    // The float weight is the rounded double product: 1.3·1.1·1.1 = 1.5730000000000004 in A1111.
    const Runs runs = gesso::prompt::parseAttention("(((house:1.3))");
    QCOMPARE(runs.size(), size_t(1));
    QCOMPARE(runs[0].weight, static_cast<float>(1.5730000000000004));
  }

  void invalidWeight_data() {
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("number");
    QTest::newRow("two dots") << "(a:1.2.3)" << "'1.2.3'";
    QTest::newRow("dot only") << "(a:.)" << "'.'";
    QTest::newRow("sign dot") << "x (a:-.) y" << "'-.'";
  }

  void invalidWeight() {
    QFETCH(QString, prompt);
    QFETCH(QString, number);
    try {
      gesso::prompt::parseAttention(prompt.toStdString());
      QFAIL("no error");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::InvalidArgument);
      QVERIFY2(QString::fromStdString(error.error().detail).contains(number), error.what());
    }
  }

  void extraNetworks_data() {
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("text");
    QTest::addColumn<Loras>("loras");
    QTest::addColumn<int>("other_count");

    QTest::newRow("strength") << "a <lora:foo:0.7> b" << "a  b" << Loras{lora("foo", 0.7f, 0.7f)} << 0;
    QTest::newRow("default strength") << "<lora:foo>" << "" << Loras{lora("foo", 1.0f, 1.0f)} << 0;
    QTest::newRow("lyco alias") << "x<lyco:bar:0.5:0.25>" << "x" << Loras{lora("bar", 0.5f, 0.25f, {}, "lyco")} << 0;
    QTest::newRow("dyn positional") << "<lora:foo:1:2:16>" << "" << Loras{lora("foo", 1.0f, 2.0f, 16)} << 0;
    QTest::newRow("named") << "<lora:foo:te=0.3:unet=0.6:dyn=8>" << "" << Loras{lora("foo", 0.3f, 0.6f, 8)} << 0;
    QTest::newRow("named te sets unet") << "<lora:foo:0.9:te=0.4>" << "" << Loras{lora("foo", 0.4f, 0.4f)} << 0;
    QTest::newRow("spaces around number") << "<lora:a:0.5><lora:b: 0.25 >" << ""
                                          << Loras{lora("a", 0.5f, 0.5f), lora("b", 0.25f, 0.25f)} << 0;
    QTest::newRow("negative") << "<lora:foo:-1.5>" << "" << Loras{lora("foo", -1.5f, -1.5f)} << 0;
    QTest::newRow("other network") << "a <hypernet:h:1> b" << "a  b" << Loras{} << 1;
    QTest::newRow("not a tag: no colon") << "a <notatag> b" << "a <notatag> b" << Loras{} << 0;
    QTest::newRow("not a tag: no args") << "<lora:>" << "<lora:>" << Loras{} << 0;
    QTest::newRow("not a tag: unclosed") << "<lora:foo:0.7" << "<lora:foo:0.7" << Loras{} << 0;
    QTest::newRow("not a tag: space in type") << "< lora:foo>" << "< lora:foo>" << Loras{} << 0;
    QTest::newRow("double <") << "<<lora:foo:2>>" << "<>" << Loras{lora("foo", 2.0f, 2.0f)} << 0;
    QTest::newRow("in brackets") << "(a <lora:x:0.5>:1.2)" << "(a :1.2)" << Loras{lora("x", 0.5f, 0.5f)} << 0;
  }

  void extraNetworks() {
    QFETCH(QString, prompt);
    QFETCH(QString, text);
    QFETCH(Loras, loras);
    QFETCH(int, other_count);
    const auto extracted = gesso::prompt::extractExtraNetworks(prompt.toStdString());
    QCOMPARE(QString::fromStdString(extracted.text), text);
    QVERIFY2(extracted.loras == loras,
             qPrintable("got " + describe(extracted.loras) + "\nexpected " + describe(loras)));
    QCOMPARE(int(extracted.other_networks.size()), other_count);
  }

  void otherNetworkKeepsArguments() {
    const auto extracted = gesso::prompt::extractExtraNetworks("<hypernet:anime:0.5>");
    QCOMPARE(extracted.other_networks.size(), size_t(1));
    QCOMPARE(QString::fromStdString(extracted.other_networks[0].type), QString("hypernet"));
    QCOMPARE(extracted.other_networks[0].arguments, (std::vector<std::string>{"anime", "0.5"}));
  }

  void badLoraTags_data() {
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("not a number") << "<lora:foo:abc>" << "'abc' in <lora:foo:abc>";
    QTest::newRow("bad unet") << "<lora:foo:1:x>" << "unet strength 'x'";
    QTest::newRow("infinite") << "<lora:foo:inf>" << "not a finite number";
    QTest::newRow("bad dyn") << "<lora:foo:1:1:2.5>" << "dyn '2.5'";
    QTest::newRow("no name") << "<lora:te=1>" << "names no network";
  }

  void badLoraTags() {
    QFETCH(QString, prompt);
    QFETCH(QString, phrase);
    try {
      gesso::prompt::extractExtraNetworks(prompt.toStdString());
      QFAIL("no error");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::InvalidArgument);
      QVERIFY2(QString::fromStdString(error.error().detail).contains(phrase), error.what());
    }
  }

  void parsePromptCombines() {
    const auto parsed = gesso::prompt::parsePrompt("a (b:1.5) <lora:foo:0.7>BREAK c");
    QCOMPARE(parsed.loras, (Loras{lora("foo", 0.7f, 0.7f)}));
    // The tag's removal leaves "a (b:1.5) BREAK c".
    const Runs expected{T("a "), T("b", 1.5), T(""), Break(), T("c")};
    QVERIFY2(parsed.parts == expected, qPrintable(describe(parsed.parts)));
  }

  void emphasisNoneKeepsBrackets() {
    const auto parsed = gesso::prompt::parsePrompt("a (b:1.5) BREAK c <lora:x>", gesso::prompt::Emphasis::None);
    const Runs expected{T("a (b:1.5) BREAK c ")};
    QVERIFY2(parsed.parts == expected, qPrintable(describe(parsed.parts)));
    QCOMPARE(parsed.loras.size(), size_t(1));
  }
};

QTEST_GUILESS_MAIN(PromptParserTest)
#include "test_prompt_parser.moc"

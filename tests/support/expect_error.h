// GESSO_EXPECT_ERROR: a test check that a statement throws GessoError with a given code and a detail naming what
// went wrong.
#pragma once

#include "gesso/error.h"

#include <QtTest>

#include <string>

// Fails the current test function unless `statement` throws GessoError with code `expected_code` and a detail that
// contains `fragment`; prints the error's message.
#define GESSO_EXPECT_ERROR(statement, expected_code, fragment)                                             \
  do {                                                                                                     \
    bool thrown_ = false;                                                                                  \
    try {                                                                                                  \
      statement;                                                                                           \
    } catch (const gesso::GessoError& error_) {                                                            \
      thrown_ = true;                                                                                      \
      qInfo("error: %s", error_.error().message().c_str());                                                \
      QCOMPARE(int(error_.error().code), int(expected_code));                                              \
      QVERIFY2(error_.error().detail.find(fragment) != std::string::npos, error_.error().detail.c_str()); \
    }                                                                                                      \
    QVERIFY2(thrown_, "expected a GessoError");                                                            \
  } while (0)

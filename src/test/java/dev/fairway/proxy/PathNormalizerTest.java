package dev.fairway.proxy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class PathNormalizerTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "/limited, /limited",
    "/x/../limited, /limited",
    "//limited, /limited",
    "/a//b///c, /a/b/c",
    "/./limited, /limited",
    "/a/b/.., /a/",
    "/a/b/./, /a/b/",
    "/../../limited, /limited",
    "/%6Cimited, /limited",
    "/%2e%2e/limited, /limited",
    "/x/%2E%2E/limited, /limited",
    "/a%2Fb, /a%2Fb",
    "/a%zz, /a%zz",
    "/a%4, /a%4",
    "/.well-known/x, /.well-known/x",
    "/a.b/c., /a.b/c.",
    "'', /",
  })
  void routesSeeOnePathForEverySpellingOfIt(String raw, String normal) {
    assertThat(PathNormalizer.normalize(raw)).isEqualTo(normal);
  }
}

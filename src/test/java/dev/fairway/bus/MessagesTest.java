package dev.fairway.bus;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/** The bus carries JSON so that it can be clustered: each record's JSON is the documented one and reads back equal. */
class MessagesTest {

  @Test
  void aStatusChangeIsTheDocumentedJsonAndReadsBack() {
    StatusChange change = new StatusChange("127.0.0.1:5001", false, "connection refused", 1_764_190_000_000L);
    assertThat(change.toJson()).isEqualTo(new JsonObject("""
      {"upstream":"127.0.0.1:5001","status":"DOWN","reason":"connection refused","at":1764190000000}"""));
    assertThat(StatusChange.fromJson(change.toJson())).isEqualTo(change);
  }

  @Test
  void anUpstreamFailureIsTheDocumentedJsonAndReadsBack() {
    UpstreamFailure failure = new UpstreamFailure("127.0.0.1:5001", "connection refused");
    assertThat(failure.toJson()).isEqualTo(new JsonObject("{\"upstream\":\"127.0.0.1:5001\",\"reason\":\"connection refused\"}"));
    assertThat(UpstreamFailure.fromJson(failure.toJson())).isEqualTo(failure);
  }

  @Test
  void failuresAreDescribedInAFewWords() {
    assertThat(UpstreamFailure.describe(new ConnectException("Connection refused: /127.0.0.1:5001"))).isEqualTo("connection refused");
    assertThat(UpstreamFailure.describe(new TimeoutException())).isEqualTo("timeout");
    assertThat(UpstreamFailure.describe(new IllegalStateException("Connection was closed"))).isEqualTo("Connection was closed");
    assertThat(UpstreamFailure.describe(new IllegalStateException())).isEqualTo("IllegalStateException");
  }
}

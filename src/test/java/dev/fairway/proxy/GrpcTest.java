package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.Fairway;
import dev.fairway.config.UpstreamOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A real gRPC client and server (grpc-java) with Fairway between them: HTTP/2 both ways, trailers (grpc-status)
 * relayed, server streaming delivered message by message, and the upstream probed with the gRPC health protocol.
 */
class GrpcTest extends FairwayTest {

  private Server server;
  private HealthStatusManager health;
  private ManagedChannel channel;

  @BeforeEach
  void setUp() throws Exception {
    health = new HealthStatusManager();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(health.getHealthService()).build().start();
    UpstreamOptions upstream = new UpstreamOptions("127.0.0.1", server.getPort()).setProtocol(UpstreamOptions.GRPC);
    fairway = Proxies.start(Proxies.options().setUpstreams(List.of(upstream)).with(o -> o.getListen().setHttp2Cleartext(true)));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", fairway.proxyPort()).usePlaintext().build();
  }

  @AfterEach
  void tearDown() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private HealthGrpc.HealthBlockingStub stub() {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  @Test
  void unaryCallPassesThroughWithItsTrailers() {
    assertThat(stub().check(HealthCheckRequest.newBuilder().setService("").build()).getStatus()).isEqualTo(ServingStatus.SERVING);
    StatusRuntimeException notFound = catchThrowableOfType(StatusRuntimeException.class,
      () -> stub().check(HealthCheckRequest.newBuilder().setService("no.such.Service").build()));
    assertThat(notFound.getStatus().getCode()).as("grpc-status from the trailers").isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void serverStreamingDeliversEachMessageWhileTheCallIsOpen() {
    health.setStatus("docs.Processor", ServingStatus.SERVING);
    Iterator<io.grpc.health.v1.HealthCheckResponse> updates = stub().watch(HealthCheckRequest.newBuilder().setService("docs.Processor").build());
    assertThat(updates.next().getStatus()).isEqualTo(ServingStatus.SERVING);
    health.setStatus("docs.Processor", ServingStatus.NOT_SERVING);
    assertThat(updates.next().getStatus()).as("second message, stream still open").isEqualTo(ServingStatus.NOT_SERVING);
  }

  @Test
  void grpcHealthProtocolProbesTakeTheUpstreamDownAndBack() {
    String id = "127.0.0.1:" + server.getPort();
    Http.await("UP by gRPC probe", Duration.ofSeconds(5), () -> upGauge(id) == 1.0);
    health.setStatus("", ServingStatus.NOT_SERVING);
    Http.await("DOWN when NOT_SERVING", Duration.ofSeconds(5), () -> upGauge(id) == 0.0);
    health.setStatus("", ServingStatus.SERVING);
    Http.await("UP again", Duration.ofSeconds(5), () -> upGauge(id) == 1.0);
  }

  private double upGauge(String id) {
    return fairway.registry().get("fairway.upstream.up").tag("upstream", id).gauge().value();
  }
}

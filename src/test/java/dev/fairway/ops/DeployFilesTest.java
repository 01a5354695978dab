package dev.fairway.ops;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The files in deploy/ parse, and say what they are meant to say. Docker and systemd are not on CI machines. */
class DeployFilesTest {

  private static List<Object> yaml(String file) throws IOException {
    List<Object> docs = new ArrayList<>();
    new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(Files.readString(Path.of(file))).forEach(docs::add);
    return docs;
  }

  @Test
  @SuppressWarnings("unchecked")
  void kubernetesManifestsHaveConfigDeploymentProbesAndService() throws IOException {
    List<Object> docs = yaml("deploy/kubernetes/fairway.yaml");
    assertThat(docs).extracting(d -> ((Map<String, Object>) d).get("kind"))
      .containsExactly("ConfigMap", "ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "Service");
    String config = (String) ((Map<String, Object>) ((Map<String, Object>) docs.get(0)).get("data")).get("fairway.yaml");
    var options = new dev.fairway.config.FairwayOptions(dev.fairway.config.ConfigLoader.parseYaml("configmap", config)).validate();
    assertThat(options.getUpstreams()).hasSize(3);
    assertThat(options.getCluster().isEnabled()).isTrue();
    assertThat(options.getCluster().getKubernetesService()).isEqualTo("fairway-cluster");
    String deployment = docs.get(4).toString();
    assertThat(deployment).contains("path=/health/live", "path=/health/ready", "terminationGracePeriodSeconds=45", "replicas=2",
      "serviceAccountName=fairway", "containerPort=5701");
    assertThat(docs.get(6).toString()).contains("name=fairway-cluster", "clusterIP=None");
    assertThat(docs.get(2).toString()).contains("endpoints", "pods", "list");
  }

  @Test
  void composeAndTunnelFilesParse() throws IOException {
    assertThat(yaml("deploy/docker-compose.yml").get(0).toString()).contains("fairway", "backend-1:5000");
    assertThat(yaml("deploy/docker-compose.cluster.yml").get(0).toString())
      .contains("fairway-1", "fairway-2", "--cluster-members, fairway-2:5701", "--cluster-members, fairway-1:5701");
    assertThat(yaml("deploy/cloudflare/config.yml").get(0).toString()).contains("http://localhost:8080");
  }

  @Test
  void windowsServiceDefinitionIsWellFormed() throws Exception {
    var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("deploy/windows/fairway-service.xml").toFile());
    assertThat(doc.getDocumentElement().getElementsByTagName("arguments").item(0).getTextContent()).contains("-jar", "fairway.yaml");
  }

  @Test
  void dockerfileAndSystemdUnitRunTheJarAsNonRootWithADrainWindow() throws IOException {
    String docker = Files.readString(Path.of("deploy/Dockerfile"));
    assertThat(docker).contains("AS build", "USER fairway", "HEALTHCHECK", "/health/live");
    String unit = Files.readString(Path.of("deploy/fairway.service"));
    assertThat(unit).contains("Restart=on-failure", "RestartPreventExitStatus=2", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes");
  }
}

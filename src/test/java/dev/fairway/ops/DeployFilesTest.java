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
    assertThat(docs).extracting(d -> ((Map<String, Object>) d).get("kind")).containsExactly("ConfigMap", "Deployment", "Service");
    String config = (String) ((Map<String, Object>) ((Map<String, Object>) docs.get(0)).get("data")).get("fairway.yaml");
    assertThat(new dev.fairway.config.FairwayOptions(dev.fairway.config.ConfigLoader.parseYaml("configmap", config)).validate()
      .getUpstreams()).hasSize(3);
    String deployment = docs.get(1).toString();
    assertThat(deployment).contains("path=/health/live", "path=/health/ready", "terminationGracePeriodSeconds=45");
  }

  @Test
  void composeAndTunnelFilesParse() throws IOException {
    assertThat(yaml("deploy/docker-compose.yml").get(0).toString()).contains("fairway", "backend-1:5000");
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

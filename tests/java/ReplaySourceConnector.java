// A source that replays records from a JSON-lines file, once: Kafka
// Connect's twin of guest-connectors/testing/replay-source, for the
// transforms comparison (tests/tests/transforms.rs). Test only; compiled
// against Kafka's jars by tests/src/replay.rs, cached by content.
//
// Each line: topic, key and value (JsonConverter envelopes with
// schemas.enable=true, else plain JSON; null for null), headers
// ([[name, text], ...], added as strings), timestamp (ms, optional).
package io.wasmconnect.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceConnector;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

public class ReplaySourceConnector extends SourceConnector {
    private Map<String, String> props;

    @Override public String version() { return "0.1.0"; }
    @Override public void start(Map<String, String> props) { this.props = props; }
    @Override public Class<? extends Task> taskClass() { return ReplayTask.class; }
    @Override public List<Map<String, String>> taskConfigs(int maxTasks) { return List.of(props); }
    @Override public void stop() { }

    @Override public ConfigDef config() {
        return new ConfigDef()
            .define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "The JSON-lines file to replay")
            .define("schemas.enable", ConfigDef.Type.BOOLEAN, true, ConfigDef.Importance.LOW,
                    "Whether keys and values are {schema, payload} envelopes");
    }

    public static class ReplayTask extends SourceTask {
        private static final ObjectMapper MAPPER = new ObjectMapper();
        private String file;
        private final JsonConverter keys = new JsonConverter();
        private final JsonConverter values = new JsonConverter();
        private boolean done;
        private volatile int total = -1;
        private final java.util.concurrent.atomic.AtomicInteger committed = new java.util.concurrent.atomic.AtomicInteger();

        @Override public String version() { return "0.1.0"; }

        @Override public void start(Map<String, String> props) {
            file = props.get("file");
            Map<String, String> conf = Map.of("schemas.enable", props.getOrDefault("schemas.enable", "true"));
            keys.configure(conf, true);
            values.configure(conf, false);
        }

        @Override public List<SourceRecord> poll() throws InterruptedException {
            if (done) {
                Thread.sleep(200);
                return null;
            }
            done = true;
            List<SourceRecord> out = new ArrayList<>();
            try {
                int n = 0;
                for (String line : Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    JsonNode r = MAPPER.readTree(line);
                    String topic = r.get("topic").asText();
                    SchemaAndValue key = convert(keys, topic, r.get("key"));
                    SchemaAndValue value = convert(values, topic, r.get("value"));
                    ConnectHeaders headers = new ConnectHeaders();
                    JsonNode hs = r.get("headers");
                    if (hs != null) for (JsonNode h : hs) headers.addString(h.get(0).asText(), h.get(1).asText());
                    JsonNode ts = r.get("timestamp");
                    Long timestamp = ts == null || ts.isNull() ? null : ts.asLong();
                    out.add(new SourceRecord(Map.of("file", file), Map.of("line", n), topic, null,
                            key.schema(), key.value(), value.schema(), value.value(), timestamp, headers));
                    n++;
                }
            } catch (java.io.IOException e) {
                throw new org.apache.kafka.connect.errors.ConnectException(e);
            }
            total = out.size();
            if (total == 0) finished();
            return out;
        }

        @Override public void commitRecord(SourceRecord record, org.apache.kafka.clients.producer.RecordMetadata metadata) {
            if (committed.incrementAndGet() == total) finished();
        }

        private void finished() {
            try {
                Files.writeString(Paths.get(file + ".done"), "done");
            } catch (java.io.IOException e) {
                throw new org.apache.kafka.connect.errors.ConnectException(e);
            }
        }

        private static SchemaAndValue convert(JsonConverter converter, String topic, JsonNode node) throws java.io.IOException {
            if (node == null || node.isNull()) return SchemaAndValue.NULL;
            return converter.toConnectData(topic, MAPPER.writeValueAsBytes(node));
        }

        @Override public void stop() { }
    }
}

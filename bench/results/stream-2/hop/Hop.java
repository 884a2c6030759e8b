import dev.lorastream.platform.EmbeddedPlatform;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;
import java.nio.file.*; import java.time.Duration; import java.util.*;
public class Hop {
  public static void main(String[] a) throws Exception {
    try (EmbeddedPlatform p = EmbeddedPlatform.start(Files.createTempDirectory("hop"))) {
      String bs = p.bootstrapServers();
      try (Admin ad = Admin.create(Map.of("bootstrap.servers", bs))) { ad.createTopics(List.of(new NewTopic("probe", 1, (short)1))).all().get(); }
      Map<String,Object> pc = new HashMap<>(Map.of("bootstrap.servers", bs, "linger.ms", 0, "acks", a.length>0?a[0]:"all"));
      try (KafkaProducer<String,String> pr = new KafkaProducer<>(pc, new StringSerializer(), new StringSerializer());
           KafkaConsumer<String,String> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bs, "isolation.level", "read_committed", "fetch.max.wait.ms", Integer.parseInt(a[1])), new StringDeserializer(), new StringDeserializer())) {
        TopicPartition tp = new TopicPartition("probe", 0); c.assign(List.of(tp)); c.seekToEnd(List.of(tp)); c.position(tp);
        List<Double> lat = new ArrayList<>(), ack = new ArrayList<>();
        int N = Integer.parseInt(System.getProperty("n", "400")); for (int i = 0; i < N; i++) {
          long t0 = System.nanoTime(); var fut = pr.send(new ProducerRecord<>("probe", "k", "v" + i)); if (a.length > 3) { fut.get(); ack.add((System.nanoTime() - t0) / 1e6); }
          while (c.poll(Duration.ofMillis(500)).isEmpty()) {}
          if (i >= N - 300) lat.add((System.nanoTime() - t0) / 1e6);
          if (Integer.parseInt(a[2]) > 0) Thread.sleep(Integer.parseInt(a[2]));
        }
        var srv = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        for (String req : List.of("Produce", "Fetch")) for (String m : List.of("RequestQueueTimeMs","LocalTimeMs","RemoteTimeMs","ThrottleTimeMs","ResponseQueueTimeMs","ResponseSendTimeMs","TotalTimeMs")) {
          var names = srv.queryNames(new javax.management.ObjectName("kafka.network:type=RequestMetrics,name=" + m + ",request=" + req + ",*"), null);
          for (var n : names) System.out.printf("%s %s %s mean %.3f p50 %s p99 %s%n", req, m, n.getKeyProperty("version") == null ? "" : "", srv.getAttribute(n, "Mean"), srv.getAttribute(n, "50thPercentile"), srv.getAttribute(n, "99thPercentile"));
        }
        Collections.sort(lat); Collections.sort(ack); if (!ack.isEmpty()) System.out.printf("ack p50 %.2f%n", ack.get(ack.size()/2));
        System.out.printf("hop p50 %.2f p90 %.2f p99 %.2f ms%n", lat.get(lat.size()/2), lat.get(lat.size()*9/10), lat.get(lat.size()*99/100));
      }
    }
  }
}

// Single-thread latency of Lucene searching an Anserini impact index
// (IndexCollection -collection JsonVectorCollection -impact -pretokenized)
// the way `SearchCollection -impact -pretokenized` does: a SHOULD clause
// per distinct query token boosted by its count (BagOfWordsQueryGenerator
// over the WhitespaceAnalyzer), Anserini's ImpactSimilarity (score = boost
// x stored frequency, loaded reflectively so JDK 17's javac compiles this
// against Lucene's API) and Anserini's sort (score, then id). The topics
// (qid TAB tokens repeated by weight) are counted before timing; building
// and running the query are timed. One warm-up pass, then a timed pass.
//
// usage: AnseriniImpactLatency INDEX_DIR TOPICS_TSV K [RUN_OUT]
// RUN_OUT, if given, receives the timed pass as a TREC run with exact float scores.
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.Similarity;
import org.apache.lucene.store.FSDirectory;

public class AnseriniImpactLatency {
  static Query build(Map<String, Long> counts) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    for (Map.Entry<String, Long> e : counts.entrySet())
      b.add(new BoostQuery(new TermQuery(new Term("contents", e.getKey())), (float) (long) e.getValue()), BooleanClause.Occur.SHOULD);
    return b.build();
  }

  public static void main(String[] args) throws Exception {
    Path index = Path.of(args[0]);
    List<String> lines = Files.readAllLines(Path.of(args[1]));
    int k = Integer.parseInt(args[2]);
    Similarity sim = (Similarity) Class.forName("io.anserini.search.similarity.ImpactSimilarity")
        .getConstructor().newInstance();
    Sort sort = new Sort(SortField.FIELD_SCORE, new SortField("id", SortField.Type.STRING_VAL));
    try (DirectoryReader reader = DirectoryReader.open(FSDirectory.open(index))) {
      IndexSearcher searcher = new IndexSearcher(reader);
      searcher.setSimilarity(sim);
      List<String> qids = new ArrayList<>();
      List<Map<String, Long>> queries = new ArrayList<>();
      for (String l : lines) {
        if (l.isBlank()) continue;
        int tab = l.indexOf('\t');
        qids.add(l.substring(0, tab));
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String t : l.substring(tab + 1).trim().split(" +")) if (!t.isEmpty()) counts.merge(t, 1L, Long::sum);
        queries.add(counts);
      }
      int n = qids.size();
      long[] nanos = new long[n], cpu = new long[n];
      java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
      TopDocs[] results = new TopDocs[n];
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
          long t0 = System.nanoTime(), c0 = mx.getCurrentThreadCpuTime();
          results[i] = searcher.search(build(queries.get(i)), k, sort, true);
          nanos[i] = System.nanoTime() - t0;
          cpu[i] = mx.getCurrentThreadCpuTime() - c0;
        }
      }
      if (args.length > 3) {
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Path.of(args[3])))) {
          for (int i = 0; i < n; i++) {
            ScoreDoc[] sd = results[i].scoreDocs;
            for (int r = 0; r < sd.length; r++) {
              String id = reader.storedFields().document(sd[r].doc).get("id");
              w.println(qids.get(i) + " Q0 " + id + " " + (r + 1) + " " + sd[r].score + " lucene");
            }
          }
        }
      }
      // Wall time, then the searching thread's CPU time (steadier on a
      // shared machine; JIT and GC threads are not counted).
      long[] sorted = nanos.clone(), csorted = cpu.clone();
      Arrays.sort(sorted);
      Arrays.sort(csorted);
      double sum = 0, csum = 0;
      for (long x : nanos) sum += x;
      for (long x : cpu) csum += x;
      System.out.printf("queries=%d mean_ms=%.4f p50_ms=%.4f p99_ms=%.4f cpu_mean_ms=%.4f cpu_p50_ms=%.4f cpu_p99_ms=%.4f%n", n, sum / n / 1e6,
          sorted[(int) Math.floor(0.50 * (n - 1))] / 1e6, sorted[(int) Math.floor(0.99 * (n - 1))] / 1e6,
          csum / n / 1e6, csorted[(int) Math.floor(0.50 * (n - 1))] / 1e6, csorted[(int) Math.floor(0.99 * (n - 1))] / 1e6);
    }
  }
}

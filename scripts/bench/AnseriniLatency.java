// Single-thread BM25 query latency of Lucene as Anserini searches: the same
// analyzer (Anserini's DefaultEnglishAnalyzer, loaded reflectively so JDK
// 17's javac can compile this against Lucene's API), the same bag-of-words
// query (a SHOULD clause per distinct term, boosted by its count, per field),
// BM25Similarity(0.9, 0.4) and Anserini's sort (score, then id). One warm-up
// pass over the queries, then a timed pass.
//
// usage: AnseriniLatency INDEX_DIR QUERIES_TSV FIELDS(comma) K [RUN_OUT]
// RUN_OUT, if given, receives the timed pass as a TREC run with exact float scores.
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
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
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;

public class AnseriniLatency {
  static List<String> analyze(Analyzer a, String text) throws Exception {
    List<String> out = new ArrayList<>();
    try (TokenStream ts = a.tokenStream("contents", text)) {
      CharTermAttribute t = ts.addAttribute(CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) out.add(t.toString());
      ts.end();
    }
    return out;
  }

  static Query build(Analyzer a, String[] fields, String text) throws Exception {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (String t : analyze(a, text)) counts.merge(t, 1L, Long::sum);
    BooleanQuery.Builder outer = new BooleanQuery.Builder();
    for (String f : fields) {
      BooleanQuery.Builder b = new BooleanQuery.Builder();
      for (Map.Entry<String, Long> e : counts.entrySet())
        b.add(new BoostQuery(new TermQuery(new Term(f, e.getKey())), (float) (long) e.getValue()), BooleanClause.Occur.SHOULD);
      if (fields.length == 1) return b.build();
      outer.add(new BoostQuery(b.build(), 1.0f), BooleanClause.Occur.SHOULD);
    }
    return outer.build();
  }

  public static void main(String[] args) throws Exception {
    Path index = Path.of(args[0]);
    List<String> lines = Files.readAllLines(Path.of(args[1]));
    String[] fields = args[2].split(",");
    int k = Integer.parseInt(args[3]);
    Analyzer analyzer = (Analyzer) Class.forName("io.anserini.analysis.DefaultEnglishAnalyzer")
        .getMethod("newDefaultInstance").invoke(null);
    Sort sort = new Sort(SortField.FIELD_SCORE, new SortField("id", SortField.Type.STRING_VAL));
    try (DirectoryReader reader = DirectoryReader.open(FSDirectory.open(index))) {
      IndexSearcher searcher = new IndexSearcher(reader);
      searcher.setSimilarity(new BM25Similarity(0.9f, 0.4f));
      List<String> qids = new ArrayList<>(), texts = new ArrayList<>();
      for (String l : lines) {
        if (l.isBlank()) continue;
        int tab = l.indexOf('\t');
        qids.add(l.substring(0, tab));
        texts.add(l.substring(tab + 1));
      }
      int n = qids.size();
      long[] nanos = new long[n];
      TopDocs[] results = new TopDocs[n];
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
          long t0 = System.nanoTime();
          Query q = build(analyzer, fields, texts.get(i));
          results[i] = searcher.search(q, k, sort, true);
          nanos[i] = System.nanoTime() - t0;
        }
      }
      if (args.length > 4) {
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Path.of(args[4])))) {
          for (int i = 0; i < n; i++) {
            ScoreDoc[] sd = results[i].scoreDocs;
            for (int r = 0; r < sd.length; r++) {
              String id = reader.storedFields().document(sd[r].doc).get("id");
              w.println(qids.get(i) + " Q0 " + id + " " + (r + 1) + " " + sd[r].score + " lucene");
            }
          }
        }
      }
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      double sum = 0;
      for (long x : nanos) sum += x;
      System.out.printf("queries=%d mean_ms=%.4f p50_ms=%.4f p99_ms=%.4f%n", n, sum / n / 1e6,
          sorted[(int) Math.floor(0.50 * (n - 1))] / 1e6, sorted[(int) Math.floor(0.99 * (n - 1))] / 1e6);
    }
  }
}

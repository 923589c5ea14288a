// TokenDump is irflow's Lucene oracle: it runs Lucene 9.9.1's English
// analysis chain (the one Anserini's DefaultEnglishAnalyzer builds) and prints
// what it produces, so that irflow's Go analysis package can be compared with
// the real thing. Build and run it with dump.sh.
//
// Modes:
//   analyze [--stemmer porter|none|snowball] [--keep-stopwords] [--tokenizer-only] [--types]
//       Reads records from stdin, each a 4-byte big-endian length followed by
//       that many bytes of UTF-8 text, and writes one line per record: the
//       terms separated by single spaces (terms never contain spaces or
//       line breaks; the program fails if one does). --types appends each
//       token's type to it, as in "word<ALPHANUM>".
//   lower
//       Prints "code-point(hex) lowercase(hex)" for every code point that
//       Character.toLowerCase (which LowerCaseFilter applies) changes.
//   cmap
//       Prints the character classes of Lucene's StandardTokenizer scanner as
//       "first-code-point(hex) class" lines, one per run of equal classes.
//   bench FILE [--stemmer ...] [--keep-stopwords] [--seconds N]
//       Reads "id<TAB>text" lines (a collection's docs.tsv) from FILE and
//       measures single-thread
//       analysis throughput in MB/s of UTF-8 input, per second of wall time
//       and per second of the process's CPU time (JIT and GC included).

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.TypeAttribute;
import org.tartarus.snowball.ext.EnglishStemmer;

public final class TokenDump {
  private static final String FIELD = "contents"; // Anserini's main field name

  public static void main(String[] args) throws Exception {
    if (args.length == 0) usage();
    switch (args[0]) {
      case "analyze":
        analyze(options(args, 1), System.in);
        break;
      case "cmap":
        cmap();
        break;
      case "lower":
        lower();
        break;
      case "bench":
        if (args.length < 2) usage();
        bench(args[1], options(args, 2));
        break;
      default:
        usage();
    }
  }

  private static void usage() {
    System.err.println("usage: TokenDump analyze|cmap|lower|bench FILE [--stemmer porter|none|snowball] [--keep-stopwords] [--tokenizer-only] [--types] [--seconds N]");
    System.exit(2);
  }

  private static final class Options {
    String stemmer = "porter";
    boolean keepStopwords;
    boolean tokenizerOnly;
    boolean types;
    double seconds = 10;
  }

  private static Options options(String[] args, int from) {
    Options o = new Options();
    for (int i = from; i < args.length; i++) {
      switch (args[i]) {
        case "--stemmer":
          o.stemmer = args[++i];
          if (!o.stemmer.equals("porter") && !o.stemmer.equals("none") && !o.stemmer.equals("snowball")) usage();
          break;
        case "--keep-stopwords":
          o.keepStopwords = true;
          break;
        case "--tokenizer-only":
          o.tokenizerOnly = true;
          break;
        case "--types":
          o.types = true;
          break;
        case "--seconds":
          o.seconds = Double.parseDouble(args[++i]);
          break;
        default:
          usage();
      }
    }
    return o;
  }

  /**
   * The analyzer for the options. The default (Porter, stop words removed) is
   * Lucene's own EnglishAnalyzer, whose chain Anserini's DefaultEnglishAnalyzer
   * repeats; the variants follow DefaultEnglishAnalyzer's: no stemmer, or an
   * empty stop set for -keepStopwords.
   */
  private static Analyzer analyzer(Options o) {
    if (!o.tokenizerOnly && o.stemmer.equals("porter") && !o.keepStopwords) return new EnglishAnalyzer();
    return new Analyzer() {
      @Override
      protected TokenStreamComponents createComponents(String fieldName) {
        Tokenizer source = new StandardTokenizer();
        if (o.tokenizerOnly) return new TokenStreamComponents(source);
        TokenStream result = new EnglishPossessiveFilter(source);
        result = new LowerCaseFilter(result);
        result = new StopFilter(result, o.keepStopwords ? CharArraySet.EMPTY_SET : EnglishAnalyzer.ENGLISH_STOP_WORDS_SET);
        if (o.stemmer.equals("porter")) result = new PorterStemFilter(result);
        if (o.stemmer.equals("snowball")) result = new SnowballFilter(result, new EnglishStemmer());
        return new TokenStreamComponents(source, result);
      }
    };
  }

  /** Reads the next length-prefixed UTF-8 record, or returns null at the end. */
  private static String readRecord(DataInputStream in) throws IOException {
    int n;
    try {
      n = in.readInt();
    } catch (EOFException e) {
      return null;
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static void analyze(Options o, InputStream stdin) throws IOException {
    Analyzer a = analyzer(o);
    DataInputStream in = new DataInputStream(new BufferedInputStream(stdin, 1 << 16));
    Writer out = new OutputStreamWriter(new BufferedOutputStream(System.out, 1 << 16), StandardCharsets.UTF_8);
    StringBuilder line = new StringBuilder();
    for (String text; (text = readRecord(in)) != null; ) {
      line.setLength(0);
      try (TokenStream ts = a.tokenStream(FIELD, text)) {
        CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
        TypeAttribute type = ts.addAttribute(TypeAttribute.class);
        ts.reset();
        boolean first = true;
        while (ts.incrementToken()) {
          for (int i = 0; i < term.length(); i++) {
            char c = term.charAt(i);
            if (c == ' ' || c == '\n' || c == '\r') throw new IllegalStateException("term with a space or line break: " + term);
          }
          if (!first) line.append(' ');
          line.append(term);
          if (o.types) line.append(type.type());
          first = false;
        }
        ts.end();
      }
      line.append('\n');
      out.write(line.toString());
    }
    out.flush();
  }

  /** Prints StandardTokenizerImpl's code point to character class map. */
  private static void cmap() throws Exception {
    Class<?> impl = Class.forName("org.apache.lucene.analysis.standard.StandardTokenizerImpl");
    Method m = impl.getDeclaredMethod("zzCMap", int.class);
    m.setAccessible(true);
    StringBuilder sb = new StringBuilder();
    int prev = -1;
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      int cls = (Integer) m.invoke(null, cp);
      if (cls != prev) {
        sb.append(Integer.toHexString(cp)).append(' ').append(cls).append('\n');
        prev = cls;
      }
    }
    System.out.print(sb);
    System.out.flush();
  }

  private static void lower() {
    StringBuilder sb = new StringBuilder();
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      int lc = Character.toLowerCase(cp);
      if (lc != cp) sb.append(Integer.toHexString(cp)).append(' ').append(Integer.toHexString(lc)).append('\n');
    }
    System.out.print(sb);
    System.out.flush();
  }

  private static void bench(String file, Options o) throws IOException {
    List<String> texts = new ArrayList<>();
    long bytes = 0;
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(file), StandardCharsets.UTF_8)) {
      String text = line.substring(line.indexOf('\t') + 1);
      texts.add(text);
      bytes += text.getBytes(StandardCharsets.UTF_8).length;
    }
    Analyzer a = analyzer(o);
    long sink = 0;
    // Warm up the JIT for a third of the time, then measure whole passes.
    long warmEnd = System.nanoTime() + (long) (o.seconds / 3 * 1e9);
    while (System.nanoTime() < warmEnd) sink += pass(a, texts);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long cpuStart = os.getProcessCpuTime();
    long start = System.nanoTime();
    long end = start + (long) (o.seconds * 1e9);
    int passes = 0;
    long terms = 0;
    do {
      terms += pass(a, texts);
      passes++;
    } while (System.nanoTime() < end);
    double secs = (System.nanoTime() - start) / 1e9;
    double cpuSecs = (os.getProcessCpuTime() - cpuStart) / 1e9;
    System.out.printf(
        "lucene-9.9.1 stemmer=%s texts=%d bytes=%d passes=%d seconds=%.2f MB/s=%.1f MB/cpu-s=%.1f terms/pass=%d (sink %d)%n",
        o.stemmer, texts.size(), bytes, passes, secs, bytes * (double) passes / secs / 1e6,
        bytes * (double) passes / cpuSecs / 1e6, terms / passes, sink % 7);
  }

  private static long pass(Analyzer a, List<String> texts) throws IOException {
    long n = 0;
    for (String text : texts) {
      try (TokenStream ts = a.tokenStream(FIELD, text)) {
        CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
        ts.reset();
        while (ts.incrementToken()) n += term.length() > 0 ? 1 : 0;
        ts.end();
      }
    }
    return n;
  }
}

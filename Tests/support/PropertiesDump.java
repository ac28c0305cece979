import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Properties;
import java.util.TreeSet;

/**
 * Prints every file's properties as java.util.Properties.load(InputStream) reads them, for the
 * importer's differential test: per file "FILE <index> <count>" (or "FILE <index> ERROR" when
 * load refuses the file), then one "KEY VALUE" line per property, each string as 'x' followed
 * by its UTF-16 code units in hex, so that no character can be mistaken for a separator.
 */
public class PropertiesDump {
    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(args[i])) {
                p.load(in);
            } catch (IllegalArgumentException e) {
                System.out.println("FILE " + i + " ERROR");
                continue;
            }
            System.out.println("FILE " + i + " " + p.size());
            for (String key : new TreeSet<>(p.stringPropertyNames())) {
                System.out.println(hex(key) + " " + hex(p.getProperty(key)));
            }
        }
    }

    private static String hex(String s) {
        StringBuilder b = new StringBuilder("x");
        for (int i = 0; i < s.length(); i++) {
            b.append(String.format("%04x", (int) s.charAt(i)));
        }
        return b.toString();
    }
}

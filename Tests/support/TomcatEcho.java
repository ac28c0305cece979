// A real servlet container for authzd's nginx tests: embedded Tomcat (Debian's
// libtomcat10-embed-java) serving one context per app the way Ant Media Server does, with a
// servlet on /rest/* that answers every request 200 with a JSON description of what it saw.
// The same servlet is the default servlet ("/") of every context and of the root context, so
// a request that reaches Tomcat anywhere is seen, not only one that reaches /{app}/rest/.
//
//   java -cp tomcat10-embed-core.jar:CLASSES TomcatEcho [--lenient] BASEDIR APP...
//       Listens on a free loopback port, prints "PORT <n>" and serves until it is killed.
//       --lenient: the settings some deployments turn on, so that the edge in front cannot
//       count on Tomcat's refusals: %2f and %5c decoded to "/" and "\", "\" read as "/".
//
// Body: {"method", "path" (request URI and query as received), "request_uri", "context_path"
// (as received: undecoded, path parameters included), "context" (the context's own path),
// "servlet_path", "path_info" (null when absent), "headers": [[name, value], ...] in the order
// received, repeated names included, "body_length"}.

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.SimpleInstanceManager;

public final class TomcatEcho {
    static final class Echo extends HttpServlet {
        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            long length = 0;
            try (InputStream in = request.getInputStream()) {
                byte[] buffer = new byte[8192];
                for (int n; (n = in.read(buffer)) > 0; ) length += n;
            }
            String query = request.getQueryString();
            StringBuilder json = new StringBuilder("{");
            field(json, "method", request.getMethod()).append(',');
            field(json, "path", request.getRequestURI() + (query == null ? "" : "?" + query)).append(',');
            field(json, "request_uri", request.getRequestURI()).append(',');
            field(json, "context_path", request.getContextPath()).append(',');
            field(json, "context", request.getServletContext().getContextPath()).append(',');
            field(json, "servlet_path", request.getServletPath()).append(',');
            field(json, "path_info", request.getPathInfo()).append(',');
            json.append("\"headers\":[");
            boolean first = true;
            for (String name : Collections.list(request.getHeaderNames())) {
                for (String value : Collections.list(request.getHeaders(name))) {
                    if (!first) json.append(',');
                    first = false;
                    json.append('[');
                    string(json, name).append(',');
                    string(json, value).append(']');
                }
            }
            json.append("],\"body_length\":").append(length).append("}");
            byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
            response.setStatus(200);
            response.setContentType("application/json");
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
        }

        private static StringBuilder field(StringBuilder json, String name, String value) {
            return string(string(json, name).append(':'), value);
        }

        private static StringBuilder string(StringBuilder json, String value) {
            if (value == null) return json.append("null");
            json.append('"');
            for (char c : value.toCharArray()) {
                if (c == '"' || c == '\\') json.append('\\').append(c);
                else if (c < 0x20 || c >= 0x7f) json.append(String.format("\\u%04x", (int) c));
                else json.append(c);
            }
            return json.append('"');
        }
    }

    public static void main(String[] args) throws Exception {
        int first = 0;
        boolean lenient = args.length > 0 && args[0].equals("--lenient");
        if (lenient) first = 1;
        File base = new File(args[first]);
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        if (lenient) {
            connector.setEncodedSolidusHandling("decode");
            connector.setEncodedReverseSolidusHandling("decode");
            connector.setAllowBackslash(true);
        }
        tomcat.setConnector(connector);

        File docs = new File(base, "docs");
        docs.mkdirs();
        addContext(tomcat, "", docs);
        for (int i = first + 1; i < args.length; i++) addContext(tomcat, "/" + args[i], docs);

        tomcat.start();
        System.out.println("PORT " + connector.getLocalPort());
        System.out.flush();
        tomcat.getServer().await();
    }

    private static void addContext(Tomcat tomcat, String path, File docs) {
        // Tomcat.addContext would scan the servlet for annotations, which needs the
        // jakarta.annotation API that Debian's embed-core comes without: configure by hand.
        StandardContext context = new StandardContext();
        context.setName(path);
        context.setPath(path);
        context.setDocBase(docs.getAbsolutePath());
        context.setIgnoreAnnotations(true);
        context.setInstanceManager(new SimpleInstanceManager());
        context.addLifecycleListener(event -> {
            if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) context.setConfigured(true);
        });
        tomcat.getHost().addChild(context);
        Tomcat.addServlet(context, "echo", new Echo());
        context.addServletMappingDecoded("/rest/*", "echo", false);
        context.addServletMappingDecoded("/", "echo", false);
    }
}

// One party's SecureSum from Java, with the client generated from openapi.yaml (org.tessera.client,
// built on the JDK's HTTP client and Gson):
//
//   java -cp <client classes>:/usr/share/java/gson.jar SecureSum MYSELF SECRET NODES UUID
//
// Every party runs it at the same time against its own server, with the same NODES and UUID; each
// prints what it downloads, e.g. {"inputs":3,"result":{"samples":3,"sum":85}}.
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import org.tessera.client.ApiClient;
import org.tessera.client.ApiException;
import org.tessera.client.api.RepresentationsApi;
import org.tessera.client.model.ArgsKwargs;
import org.tessera.client.model.ComputeKwargs;
import org.tessera.client.model.Network;

public class SecureSum {
    public static void main(String[] args) throws Exception {
        int myself = Integer.parseInt(args[0]);
        double secret = Double.parseDouble(args[1]);
        String[] nodes = args[2].split(",");
        ApiClient client = new ApiClient().setBasePath(nodes[myself]).setTimeout(Duration.ofSeconds(120));
        String token = System.getenv("TESSERA_TOKEN");
        if (token != null && !token.isEmpty()) client.setBearerToken(token);
        RepresentationsApi api = new RepresentationsApi(client);
        try {
            // create(protocol="Simon") -> its member compute -> the call -> download, as every FSC client does.
            UUID simon = api.createRepresentation(new ArgsKwargs().args(new ArrayList<>()).kwargs(Map.of("protocol", "Simon"))).getUuid();
            UUID compute = api.createAttribute(simon, "compute").getUuid();
            ComputeKwargs kwargs = new ComputeKwargs()
                .microprotocol("SecureSum")
                .data(secret == Math.rint(secret) ? (Object) (long) secret : (Object) secret)
                .network(new Network().nodes(Arrays.asList(nodes)).uuid(args[3]).myself(myself));
            UUID result = api.callRepresentation(new ArgsKwargs().args(new ArrayList<>()).kwargs(asMap(client, kwargs)), compute).getUuid();
            Object answer = api.downloadRepresentation(result).getObject();
            for (UUID representation : new UUID[] {result, compute, simon}) api.releaseRepresentation(representation);
            System.out.println(client.getJSON().serialize(answer));
        } catch (ApiException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    /** A typed kwargs model as the free-form `kwargs` of ArgsKwargs (the same JSON). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(ApiClient client, Object model) {
        return client.getJSON().getGson().fromJson(client.getJSON().serialize(model), Map.class);
    }
}

package tessera.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.onnx.batching.BatchResult;

/**
 * Open Inference Protocol (KServe v2) request and response bodies: JSON tensors, and the binary tensor data extension
 * (a JSON header of {@code Inference-Header-Content-Length} bytes followed by raw little-endian tensors, each input
 * naming its size in {@code parameters.binary_data_size}). Parsing streams numbers straight into a float array
 * (Jackson's streaming parser), so a 150,000-element image costs no boxing.
 */
final class InferCodec {
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(64).build())
            .build();

    private InferCodec() {}

    /** One input tensor of a request. */
    static final class Input {
        String name;
        String datatype;
        int[] shape;
        float[] data;
        int count;
        long binarySize = -1;
    }

    /** A parsed request: its inputs, the outputs it asks for (null = all) and which of them to send as binary. */
    static final class Request {
        String id;
        final List<Input> inputs = new ArrayList<>();
        Map<String, Boolean> outputs; // name -> binary
        boolean binaryOutputs;
    }

    /**
     * Parses a request body. {@code headerLength} is the JSON part's length when the binary extension is used, or -1.
     * {@code maxElements} bounds the elements of all inputs together.
     */
    static Request parse(byte[] body, int headerLength, long maxElements) {
        int jsonLen = headerLength < 0 ? body.length : headerLength;
        if (headerLength > body.length) throw HttpError.badRequest(HEADER_LENGTH + " " + headerLength + " exceeds the body's " + body.length + " bytes");
        Request r = new Request();
        try (JsonParser p = JSON.createParser(body, 0, jsonLen)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw HttpError.badRequest("the request body must be a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "id" -> r.id = t == JsonToken.VALUE_STRING ? p.getText() : fail("'id' must be a string");
                    case "parameters" -> {
                        Map<String, Object> params = parameters(p, "parameters");
                        r.binaryOutputs = Boolean.TRUE.equals(params.get("binary_data_output"));
                    }
                    case "inputs" -> {
                        if (t != JsonToken.START_ARRAY) fail("'inputs' must be an array");
                        // a JSON number takes at least one character and a separator: no body holds more elements
                        long fits = Math.min(maxElements, jsonLen / 2 + 1);
                        while (p.nextToken() != JsonToken.END_ARRAY) r.inputs.add(input(p, fits));
                    }
                    case "outputs" -> {
                        if (t != JsonToken.START_ARRAY) fail("'outputs' must be an array");
                        r.outputs = new LinkedHashMap<>();
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            if (p.currentToken() != JsonToken.START_OBJECT) fail("each requested output must be an object");
                            String name = null;
                            boolean binary = false;
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String f = p.currentName();
                                JsonToken v = p.nextToken();
                                if (f.equals("name")) name = v == JsonToken.VALUE_STRING ? p.getText() : fail("output 'name' must be a string");
                                else if (f.equals("parameters")) binary = Boolean.TRUE.equals(parameters(p, "output parameters").get("binary_data"));
                                else p.skipChildren();
                            }
                            if (name == null) fail("a requested output has no 'name'");
                            r.outputs.put(name, binary);
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) fail("the request body must be one JSON object");
            if (p.nextToken() != null) fail("unexpected content after the JSON object");
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            String msg = oneLine(e.getOriginalMessage()).replaceAll(" \\(start marker at \\[Source: .*?; line: (\\d+), column: (\\d+)\\]\\)", " (opened at line $1, column $2)");
            throw HttpError.badRequest("malformed JSON: " + msg + where);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (headerLength >= 0) attachBinary(r, body, headerLength);
        return r;
    }

    private static <T> T fail(String message) { throw HttpError.badRequest(message); }

    static String oneLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).replace('\r', ' ');
    }

    private static Map<String, Object> parameters(JsonParser p, String what) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) fail("'" + what + "' must be an object");
        Map<String, Object> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            JsonToken v = p.nextToken();
            switch (v) {
                case VALUE_TRUE -> m.put(k, Boolean.TRUE);
                case VALUE_FALSE -> m.put(k, Boolean.FALSE);
                case VALUE_NUMBER_INT -> m.put(k, p.getLongValue());
                case VALUE_STRING -> m.put(k, p.getText());
                default -> p.skipChildren();
            }
        }
        return m;
    }

    private static Input input(JsonParser p, long maxElements) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) fail("each input must be an object");
        Input in = new Input();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "name" -> in.name = t == JsonToken.VALUE_STRING ? p.getText() : fail("input 'name' must be a string");
                case "datatype" -> in.datatype = t == JsonToken.VALUE_STRING ? p.getText() : fail("input 'datatype' must be a string");
                case "shape" -> {
                    if (t != JsonToken.START_ARRAY) fail("input 'shape' must be an array of integers");
                    List<Integer> dims = new ArrayList<>();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) fail("input 'shape' must be an array of integers");
                        long d = p.getLongValue();
                        if (d < 0 || d > Integer.MAX_VALUE) fail("input shape dimension " + d + " is out of range");
                        if (dims.size() >= 16) fail("input 'shape' has more than 16 dimensions");
                        dims.add((int) d);
                    }
                    in.shape = dims.stream().mapToInt(Integer::intValue).toArray();
                }
                case "parameters" -> {
                    Object size = parameters(p, "input parameters").get("binary_data_size");
                    if (size != null) {
                        if (!(size instanceof Long l) || l < 0) fail("binary_data_size must be a non-negative integer");
                        in.binarySize = (Long) size;
                    }
                }
                case "data" -> readData(p, in, maxElements);
                default -> p.skipChildren();
            }
        }
        if (in.name == null) fail("an input has no 'name'");
        return in;
    }

    /**
     * Reads a (possibly nested) array of numbers row-major into {@code in.data}. The first buffer is the declared
     * shape's size, but never more than {@code maxElements} (which the caller bounds by the body's length), so a tiny
     * body declaring a huge shape allocates nothing large.
     */
    private static void readData(JsonParser p, Input in, long maxElements) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) fail("input '" + in.name + "' data must be an array of numbers");
        long want = in.shape == null ? -1 : numel(in.shape);
        float[] buf = new float[(int) Math.max(16, Math.min(want > 0 ? want : 1024, maxElements))];
        int n = 0, depth = 1;
        while (depth > 0) {
            JsonToken t = p.nextToken();
            if (t == null) fail("input data ends early");
            switch (t) {
                case START_ARRAY -> depth++;
                case END_ARRAY -> depth--;
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                    if (n == buf.length) {
                        if (n >= maxElements) throw HttpError.tooLarge("input data has more than " + maxElements + " elements");
                        buf = Arrays.copyOf(buf, (int) Math.min(maxElements, (long) n * 2));
                    }
                    float v = p.getFloatValue();
                    if (!Float.isFinite(v)) fail("input '" + in.name + "' element " + n + " (" + p.getText() + ") is not a finite float32");
                    buf[n++] = v;
                }
                default -> fail("input '" + in.name + "' element " + n + " is " + describe(t) + ", not a number");
            }
        }
        in.data = buf;
        in.count = n;
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case VALUE_STRING -> "a string";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            case START_OBJECT -> "an object";
            default -> t.toString();
        };
    }

    private static void attachBinary(Request r, byte[] body, int headerLength) {
        long at = headerLength;
        for (Input in : r.inputs) {
            if (in.binarySize < 0) continue;
            if (in.data != null) fail("input '" + in.name + "' has both JSON data and binary_data_size");
            if (in.binarySize % 4 != 0) fail("input '" + in.name + "' binary_data_size " + in.binarySize + " is not a multiple of 4 (FP32)");
            if (at + in.binarySize > body.length) fail("input '" + in.name + "' binary_data_size " + in.binarySize + " runs past the end of the body");
            int n = (int) (in.binarySize / 4);
            float[] f = new float[n];
            ByteBuffer.wrap(body, (int) at, (int) in.binarySize).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(f[i])) fail("input '" + in.name + "' element " + i + " (" + f[i] + ") is not a finite float32");
            }
            in.data = f;
            in.count = n;
            at += in.binarySize;
        }
        if (at != body.length) fail("the body has " + (body.length - at) + " bytes of binary data that no input's binary_data_size claims");
    }

    static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** The response body; {@code binaryHeaderLength[0]} receives the JSON part's length when binary outputs follow it, else -1. */
    static byte[] response(String modelName, String id, BatchResult result, Map<String, Boolean> requested, boolean binaryAll, int[] binaryHeaderLength) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        List<float[]> binary = new ArrayList<>();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("model_name", modelName);
            g.writeStringField("model_version", "1");
            if (id != null) g.writeStringField("id", id);
            g.writeArrayFieldStart("outputs");
            for (int k = 0; k < result.outputs(); k++) {
                String name = result.name(k);
                if (requested != null && !requested.containsKey(name)) continue;
                boolean bin = binaryAll || (requested != null && requested.get(name));
                writeTensor(g, name, result.shape(k), result.data(k), bin);
                if (bin) binary.add(result.data(k));
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (binary.isEmpty()) {
            binaryHeaderLength[0] = -1;
            return out.toByteArray();
        }
        binaryHeaderLength[0] = out.size();
        int total = out.size();
        for (float[] f : binary) total += f.length * 4;
        byte[] body = Arrays.copyOf(out.toByteArray(), total);
        int pos = binaryHeaderLength[0];
        for (float[] f : binary) {
            ByteBuffer.wrap(body, pos, f.length * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(f);
            pos += f.length * 4;
        }
        return body;
    }

    static void writeTensor(JsonGenerator g, String name, int[] shape, float[] data, boolean binary) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("datatype", "FP32");
        g.writeArrayFieldStart("shape");
        for (int d : shape) g.writeNumber(d);
        g.writeEndArray();
        if (binary) {
            g.writeObjectFieldStart("parameters");
            g.writeNumberField("binary_data_size", (long) data.length * 4);
            g.writeEndObject();
        } else {
            g.writeArrayFieldStart("data");
            for (float v : data) g.writeNumber(v);
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    static JsonGenerator generator(ByteArrayOutputStream out) {
        try {
            return JSON.createGenerator(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code {"error":"…"}}. */
    static byte[] error(String message) {
        return ("{\"error\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(oneLine(message))) + "\"}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}

// Unsigned test JWTs. The plugin never checks signatures, so "sig" replaces one.
import Foundation

enum TestTokens {
    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Returns a compact JWS whose payload is `payloadJSON` verbatim.
    static func token(header: String = #"{"alg":"RS256","kid":"key-1"}"#, payloadJSON: String) -> String {
        base64URL(header) + "." + base64URL(payloadJSON) + ".c2ln"
    }

    /// Returns a service account token shaped like the kubelet's, expiring at `exp`.
    static func serviceAccountToken(exp: Int) -> String {
        token(payloadJSON: #"{"aud":["harbor.example.com"],"exp":\#(exp),"iat":\#(exp - 3600),"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:default:app"}"#)
    }
}

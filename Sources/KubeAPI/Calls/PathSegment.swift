import Foundation

/// Percent-encodes one path segment (a namespace, a name), so a value cannot add path
/// components or a query to a request.
func segment(_ value: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/;?#%")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}

import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ProxyCredentialsSchema, ProxyType } from "../../gen/postpress/credentials/v1/credentials_pb.js";
import { CookieJar } from "../../src/drivers/http/cookie-jar.ts";
import { firstAttribute, firstForm } from "../../src/drivers/http/html-form.ts";
import { proxyEndpoint } from "../../src/drivers/proxy/dispatcher.ts";

describe("the web drivers' HTTP pieces", () => {
  it("the cookie jar keeps the latest value, drops expired and deleted cookies, keeps quotes", () => {
    const jar = new CookieJar({ li_at: "old" });
    jar.update(['li_at=new; Path=/; Secure; HttpOnly', 'JSESSIONID="ajax:1"; Path=/', "gone=x; Max-Age=0", "past=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "lang=deleted", "bad"]);
    expect(jar.toJSON()).toEqual({ li_at: "new", JSESSIONID: '"ajax:1"' });
    jar.update(["li_at=; Max-Age=0"]);
    expect(jar.header()).toBe('JSESSIONID="ajax:1"');
    expect(new CookieJar().header()).toBeUndefined();
  });

  it("reads the first form's action and named inputs, entities decoded", () => {
    const form = firstForm(`<p>x</p><form method="POST" action="/checkpoint/challenge/verify"><input type="hidden" name="resendUrl" value="/r?a=1&amp;b=2"><input name='pin'><input type="submit"></form><form action="/other"></form>`);
    expect(form).toEqual({ action: "/checkpoint/challenge/verify", fields: { resendUrl: "/r?a=1&b=2", pin: "" } });
    expect(firstForm("<html>no form</html>")).toBeUndefined();
    expect(firstAttribute('<div class="g-recaptcha" data-sitekey="abc&quot;d"></div>', "data-sitekey")).toBe('abc"d');
  });

  it("maps the request's proxy: an unset protocol is HTTPS, empty credentials are none", () => {
    expect(proxyEndpoint(create(ProxyCredentialsSchema, { host: "p.example", port: 3128 }))).toEqual({ protocol: "https", host: "p.example", port: 3128, username: undefined, password: undefined });
    expect(proxyEndpoint(create(ProxyCredentialsSchema, { type: ProxyType.SOCKS5, host: "10.0.0.1", port: 1080, username: "u", password: "p" }))).toMatchObject({ protocol: "socks5", username: "u", password: "p" });
    expect(proxyEndpoint(create(ProxyCredentialsSchema, { type: ProxyType.HTTP, host: "h", port: 80 }))?.protocol).toBe("http");
    expect(proxyEndpoint(undefined)).toBeUndefined();
  });
});

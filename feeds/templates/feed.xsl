<?xml version="1.0" encoding="utf-8"?>
<!--
  Shows an Atom or RSS 2.0 feed of this site as a readable page when someone opens it in
  a browser: what a feed is, how to subscribe, and the latest items. Feed readers ignore
  it. Summaries are not shown: they are escaped HTML, which XSLT 1.0 can only print as
  markup text; each item links to its page instead.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/atom:feed/atom:title | /rss/channel/title"/>
  <xsl:variable name="self"
      select="/atom:feed/atom:link[@rel='self']/@href | /rss/channel/atom:link[@rel='self']/@href"/>
  <xsl:variable name="site"
      select="/atom:feed/atom:link[@rel='alternate']/@href | /rss/channel/link"/>

  <xsl:template match="/">
    <html lang="{{ site.language }}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="$title"/> {{ _("(web feed)") }}</title>
        <link rel="stylesheet" href="{{ links.page('/style.css') }}"/>
      </head>
      <body>
        <header class="site-header">
          <div class="wrap">
            <p class="site-title"><a href="{{ links.page('/') }}">{{ site.title }}</a></p>
          </div>
        </header>
        <main id="main" class="wrap">
          <p class="feed-badge">{{ _("Web feed") }}</p>
          <h1><xsl:value-of select="$title"/></h1>
          <section class="feed-about" aria-labelledby="about-h">
            <h2 id="about-h">{{ _("This is a web feed") }}</h2>
            <p>{{ _("A feed lets you follow this site without visiting it: a feed reader checks it for you and shows what is new. Copy the address below and paste it into your reader (for example NetNewsWire, Feedly, Inoreader, Thunderbird or Outlook).") }}</p>
            <p class="copy-line">{{ _("Feed address:") }} <code><xsl:value-of select="$self"/></code></p>
            <p>{% trans calendar=links.page('/events.ics'), home=links.page('/') %}Events are also published as a <a href="{{ calendar }}">calendar</a> you can subscribe to; see <a href="{{ home }}#subscribe">all the ways to subscribe</a>.{% endtrans %}</p>
          </section>
          <section aria-labelledby="items-h">
            <h2 id="items-h">{{ _("Latest in this feed") }}</h2>
            <ol class="items">
              <xsl:apply-templates select="/atom:feed/atom:entry | /rss/channel/item"/>
            </ol>
          </section>
          <p class="more"><a href="{$site}">{{ _("Visit the site") }}</a></p>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li class="item">
      <h3 class="item-title">
        <a href="{atom:link[@rel='alternate'][1]/@href}"><xsl:value-of select="atom:title"/></a>
      </h3>
      <p class="meta">
        <time datetime="{atom:published | atom:updated[not(../atom:published)]}">
          <xsl:value-of select="substring(atom:published | atom:updated[not(../atom:published)], 1, 10)"/>
        </time>
      </p>
    </li>
  </xsl:template>

  <xsl:template match="item">
    <li class="item">
      <h3 class="item-title"><a href="{link}"><xsl:value-of select="title"/></a></h3>
      <p class="meta"><xsl:value-of select="pubDate"/></p>
    </li>
  </xsl:template>
</xsl:stylesheet>
